"""Shared fixtures: real services, settings, and app instances on free ports."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from server import keys
from server.app import create_app
from server.settings import Settings, load_settings
from tests import services
from tests.browser import browser, network_plug, pwa_server  # noqa: F401  (PWA suite fixtures)
from tests.services import MISSING, MotoS3, require


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if MISSING:
        terminalreporter.section("MISSING SERVICES: suites were skipped", sep="!", red=True, bold=True)
        for message in MISSING.values():
            terminalreporter.write_line(f"!!! {message}", red=True, bold=True)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    url, problem = services.create_pg_database()
    require("postgres", problem)
    assert url is not None
    yield url
    services.drop_pg_database(url)


@pytest.fixture(scope="session")
def redis_url() -> str:
    require("redis", services.probe_redis())
    return services.TEST_REDIS_URL


@pytest.fixture
def redis_prefix() -> str:
    """Unique per test, so keys (limits, presence) and channels never leak between tests."""
    return f"feltsync_test_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def node_ready() -> None:
    require("node", services.probe_node())


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = MotoS3()
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the embedded default and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite://{(tmp_path / 'feltsync.sqlite3').as_posix()}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def make_settings(tmp_path: Path, redis_prefix: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "env": "test", "var_dir": tmp_path / "var", "bcrypt_cost": 4,
            "redis_prefix": redis_prefix,
            "jwt_secret": "test-secret-" + "x" * 40, "log_level": "WARNING",
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@dataclass
class RunningApp:
    app: web.Application
    runner: web.AppRunner
    url: str

    @property
    def settings(self) -> Settings:
        return self.app[keys.SETTINGS]

    @property
    def services(self) -> Any:
        return self.app[keys.SERVICES]

    def access_token(self, user_id: int, device_id: str = "test-device") -> str:
        return self.services.tokens.issue_access(user_id, device_id)[0]


@pytest.fixture
async def start_app() -> AsyncIterator[Callable[..., Any]]:
    """Start real app instances (one or several, in this process) on free ports."""
    running: list[RunningApp] = []

    async def start(settings: Settings, *, prepare: Callable[[web.Application], None] | None = None
                    ) -> RunningApp:
        app = create_app(settings)
        if prepare is not None:
            prepare(app)
        runner = web.AppRunner(app, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        instance = RunningApp(app, runner, f"http://127.0.0.1:{port}")
        running.append(instance)
        return instance

    yield start
    for instance in reversed(running):
        await instance.runner.cleanup()


@pytest.fixture
async def server(start_app: Callable[..., Any], make_settings: Callable[..., Settings],
                 db_url: str) -> RunningApp:
    """One instance on each backend (SQLite and PostgreSQL)."""
    return await start_app(make_settings(database_url=db_url))


@pytest.fixture
async def sqlite_server(start_app: Callable[..., Any], make_settings: Callable[..., Settings]) -> RunningApp:
    return await start_app(make_settings())
