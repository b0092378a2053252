"""Finding the real services the suites need, and the policy when one is missing.

Under CI=true a missing service fails the run. Elsewhere the suites that need it skip, and the
session ends with one loud line per missing service saying how to provide it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ADMIN_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

MISSING: dict[str, str] = {}

HOW_TO = {
    "postgres": "set TEST_DATABASE_URL to an admin URL of a PostgreSQL server "
                "(default postgres://postgres@127.0.0.1:5432/postgres) or run `docker compose up -d postgres`",
    "redis": "set TEST_REDIS_URL (default redis://127.0.0.1:6379/0) or run `docker compose up -d redis`",
    "node": "install Node.js 20+ and run `npm ci` (make test does it)",
    "chromium": "install Debian's chromium (`apt-get install -y chromium`, which `make test` runs "
                "as root) and the test extra (`pip install -e '.[test]'`, for playwright); "
                "CHROMIUM_PATH points at another build",
    "sdk": "run `npm ci` in sdk/ (make test does it)",
    "nginx": "install Debian's nginx (`apt-get install -y nginx`, which `make test` runs as root)",
}


def require(service: str, problem: str | None) -> None:
    """Fail under CI, skip loudly elsewhere, when `problem` says the service is missing."""
    if problem is None:
        return
    message = f"{service} unavailable ({problem}): {HOW_TO[service]}"
    if IN_CI:
        pytest.fail(f"CI=true and {message}", pytrace=False)
    MISSING[service] = message
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_DATABASE_URL.replace("postgres://", "postgresql://", 1),
                                 timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_pg_database() -> tuple[str | None, str | None]:
    """(url, None) for a fresh uniquely named database, or (None, why not)."""
    name = f"feltsync_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        return None, f"{type(exc).__name__}: {exc}"
    return _with_database(ADMIN_DATABASE_URL, name), None


def drop_pg_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def probe_redis() -> str | None:
    import redis

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


def probe_node() -> str | None:
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not (ROOT / "node_modules" / "socket.io-client").is_dir():
        return "node_modules/socket.io-client is missing"
    return None


CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def probe_chromium() -> str | None:
    if not Path(CHROMIUM_PATH).is_file():
        return f"{CHROMIUM_PATH} is missing"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


NGINX_PATH = os.environ.get("NGINX_PATH", "/usr/sbin/nginx")


def probe_nginx() -> str | None:
    if not Path(NGINX_PATH).is_file():
        return f"{NGINX_PATH} is missing (Debian package nginx)"
    return None


def probe_sdk() -> str | None:
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not (ROOT / "sdk" / "node_modules" / "json-schema-to-typescript").is_dir():
        return "sdk/node_modules is missing"
    return None


class MotoS3:
    """moto in server mode as a subprocess: a real HTTP S3 endpoint on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("moto server exited at start")
                time.sleep(0.1)
        raise RuntimeError("moto server did not start within 30 s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
