"""Tortoise ORM start/stop and migrations.

Tortoise keeps its connections process-wide, so several app instances in one process (tests
run two) share one initialisation: the first instance initialises, the last one closes.
"""

from __future__ import annotations

import asyncio

from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api import migrate as tortoise_migrate

from models.config import tortoise_config


class _SharedOrm:
    def __init__(self) -> None:
        self.users = 0
        self.database_url: str | None = None
        self.lock: asyncio.Lock | None = None

    async def acquire(self, database_url: str, *, migrate: bool) -> None:
        if self.users == 0:
            # A fresh lock per first user: an idle process may have moved to another event loop.
            self.lock = asyncio.Lock()
        assert self.lock is not None
        async with self.lock:
            if self.users and database_url != self.database_url:
                raise RuntimeError("instances in one process must share one DATABASE_URL")
            if not self.users:
                if migrate:
                    await run_migrations(database_url)
                # Tortoise caches prepared INSERT statements by connection name, not dialect:
                # a process that moves from SQLite to PostgreSQL must not reuse `?` placeholders.
                EXECUTOR_CACHE.clear()
                # Request handlers run in tasks that do not inherit this task's context,
                # so the ORM context must be the process-wide fallback.
                await Tortoise.init(config=tortoise_config(database_url),
                                    _enable_global_fallback=True)
                self.database_url = database_url
            self.users += 1

    async def release(self) -> None:
        assert self.lock is not None
        async with self.lock:
            self.users -= 1
            if not self.users:
                await Tortoise.close_connections()
                self.database_url = None


shared_orm = _SharedOrm()


async def run_migrations(database_url: str) -> None:
    """Apply every pending migration; a no-op when the schema is current."""
    await tortoise_migrate(config=tortoise_config(database_url))
    await Tortoise.close_connections()


async def ping_database() -> None:
    await connections.get("default").execute_query("SELECT 1")
