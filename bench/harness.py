"""What the benchmark scripts share: free ports, a scratch PostgreSQL database, server
processes and waiting for them to come up.

BENCH_DATABASE_URL (an admin URL, default the local PostgreSQL) and BENCH_REDIS_URL (default
the local Redis) say where the services are.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL",
                                    "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_DATABASE_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _scratch_name() -> tuple[str, str]:
    name = f"feltsync_bench_{secrets.token_hex(4)}"
    return name, ADMIN_DATABASE_URL.rsplit("/", 1)[0] + "/" + name


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A new PostgreSQL database for one run, dropped afterwards; yields its URL."""
    name, url = _scratch_name()
    await admin(f'CREATE DATABASE "{name}"')
    try:
        yield url
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database_sync() -> Iterator[str]:
    """`scratch_database` for scripts that run no event loop of their own."""
    name, url = _scratch_name()
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def process(args: list[str], log: Path | None = None, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> Iterator[subprocess.Popen]:
    """A child process, interrupted (then killed) on the way out; output to `log` or nowhere."""
    out = log.open("wb") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if log is not None:
            out.close()  # type: ignore[union-attr]


def feltsync_process(env: dict[str, str], log: Path | None = None
                     ) -> contextlib.AbstractContextManager[subprocess.Popen]:
    """`feltsync serve` from this checkout with `env`."""
    return process([sys.executable, "-m", "server", "serve"], log, env=env, cwd=ROOT)


def start_instances(stack: contextlib.ExitStack, count: int,
                    env_for: Callable[[int, int], dict[str, str]],
                    log_for: Callable[[int], Path | None] = lambda i: None,
                    timeout: float = 60.0) -> list[str]:
    """`count` feltsync processes on free ports, kept by `stack`; their URLs once each is up.

    `env_for(i, port)` gives instance i's environment, `log_for(i)` where its output goes.
    """
    urls = []
    for i in range(count):
        port = free_port()
        stack.enter_context(feltsync_process(env_for(i, port), log_for(i)))
        urls.append(f"http://127.0.0.1:{port}")
    for url in urls:
        wait_http(f"{url}/healthz", timeout)
    return urls


def wait_http(url: str, timeout: float = 30.0) -> None:
    """Until `url` answers below 500 (a server's /healthz), or RuntimeError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status < 500:
                    return
        except Exception:  # noqa: BLE001 - not up yet
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up") from None
            time.sleep(0.2)
