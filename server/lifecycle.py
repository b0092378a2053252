"""One cleanup_ctx generator per resource: set up before `yield`, torn down after."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from server import keys
from server.realtime.console_feed import ConsoleFeed
from server.storage.blobs import S3BlobStore, open_blob_store
from server.storage.orm import shared_orm
from server.storage.redis import make_redis

log = logging.getLogger(__name__)

CLOCK_STOP_SECONDS = 5.0  # how long shutdown waits for a tournament clock tick in flight


async def database(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    await shared_orm.acquire(settings.database_url, migrate=settings.migrate_on_start)
    yield
    await shared_orm.release()


async def redis(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    client = make_redis(settings.redis_url) if settings.redis_url else None
    app[keys.REDIS] = client
    yield
    if client is not None:
        await client.aclose()


async def blob_store(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    async with open_blob_store(settings) as store:
        if isinstance(store, S3BlobStore):
            try:
                await store.ensure_bucket()
            except Exception:  # noqa: BLE001 - /readyz reports it; start anyway
                log.warning("S3 bucket %s is not reachable yet", settings.s3_bucket)
        app[keys.BLOBS] = store
        yield


async def tournament_clock(app: web.Application) -> AsyncIterator[None]:
    """Announce due level and break changes as room events, on every instance (idempotent)."""
    services = app[keys.SERVICES]
    interval = app[keys.SETTINGS].tournament_tick_seconds

    stopping = asyncio.Event()

    async def tick_until_stopped() -> None:
        while not stopping.is_set():
            try:
                await services.tournaments.advance_due_clocks()
            except Exception:  # a bad tick must not stop the clock
                log.exception("tournament clock tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), interval)

    task = asyncio.create_task(tick_until_stopped(), name="tournament-clock")
    yield
    # A tick in flight may finish (for a while) rather than be cancelled: cancelled while the
    # SQLite driver opens its connection, it leaves the driver's thread answering a closed loop.
    stopping.set()
    _, running = await asyncio.wait({task}, timeout=CLOCK_STOP_SECONDS)
    for stuck in running:
        stuck.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stuck


async def console_feed(app: web.Application) -> AsyncIterator[None]:
    """Push the admin console's snapshots; idle while nobody is subscribed."""
    feed = ConsoleFeed(app[keys.REALTIME], app[keys.SERVICES].console,
                       app[keys.SETTINGS].instance_id, app[keys.SETTINGS].console_interval)
    task = asyncio.create_task(feed.run(), name="console-feed")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def limits(app: web.Application) -> AsyncIterator[None]:
    """The rate limiter's own Redis pool (when Redis is configured) closes with the app."""
    yield
    await app[keys.SERVICES].limits.aclose()
