"""Graceful shutdown (SIGTERM): the listener is already closed when this runs (aiohttp stops the
sites first, then calls on_shutdown, then waits for in-flight requests up to its timeout).

Connected sockets are long-lived handlers that would hold that wait to its end: each is told to
reconnect (`session:closing {reason: "shutdown"}`; it resumes elsewhere from the log with its
last seq) and then disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from server import keys
from server.realtime.core import CLOSING

log = logging.getLogger(__name__)

SHUTDOWN_REASON = "shutdown"
FLUSH_SECONDS = 2.0  # how long the closing notice may take to leave before the socket is cut


async def close_sockets(app: web.Application) -> None:
    realtime = app[keys.REALTIME]
    sio, registry = realtime.sio, realtime.registry
    sids = registry.sids()
    log.info("shutting down: closing %d sockets", len(sids))

    async def close(sid: str) -> None:
        with contextlib.suppress(Exception):  # a socket already gone is fine
            await sio.emit(CLOSING, {"reason": SHUTDOWN_REASON}, to=sid)
            await sio.disconnect(sid)

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(close(sid) for sid in sids)), FLUSH_SECONDS)
    # Sockets that never authenticated and the engine.io ping tasks go too.
    with contextlib.suppress(Exception):
        await sio.shutdown()
