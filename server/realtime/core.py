"""The realtime core of one instance: ordered local delivery, Redis fan-out, gap checks, presence.

Committed events reach local members right away and go to Redis for the other instances. The
log stays the source of truth: on a Redis reconnect, on a new subscription, and every
`gap_check_interval` seconds the instance compares what it delivered per local room with the
room's head in the database and emits the difference, so an outage costs latency, never events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import socketio

from server.realtime.delivery import LocalDelivery
from server.realtime.fanout import RedisFanout
from server.realtime.membership import Membership
from server.realtime.presence import Presence
from server.realtime.registry import ConnectionRegistry
from server.services.container import Services
from server.services.event_bus import RoomEventRecord
from server.services.rooms import log_heads

log = logging.getLogger(__name__)

Deliver = Callable[[list[RoomEventRecord]], Awaitable[None]]
CLOSING = "session:closing"


class RealtimeCore:
    def __init__(self, sio: socketio.AsyncServer, services: Services, registry: ConnectionRegistry,
                 deliver: Deliver):
        settings = services.settings
        self.sio = sio
        self.services = services
        self.registry = registry
        self.delivery = LocalDelivery(sio, settings.socket_max_outgoing)
        self.delivery.drop_socket = self.drop_socket
        self.presence = Presence(services.bus, settings.redis_url, settings.redis_prefix,
                                 settings.instance_id, settings.presence_ttl,
                                 settings.presence_leave_grace)
        self.membership = Membership(sio, self.delivery, services.rooms, self.presence)
        self.fanout: RedisFanout | None = None
        if settings.redis_url:
            self.fanout = RedisFanout(settings.redis_url, settings.redis_prefix,
                                      on_records=deliver, on_resubscribed=self.fill_rooms)
        self.membership.fanout = self.fanout
        self._dropping: set[str] = set()
        self.slow_consumers_dropped = 0

    def publish_remote(self, events: list[RoomEventRecord]) -> None:
        if self.fanout is not None:
            self.fanout.publish(events)

    async def fill_rooms(self, rooms: list[str] | None = None) -> None:
        """Emit whatever the log holds past what this instance delivered, room by room."""
        tracked = self.delivery.tracked_rooms() if rooms is None else rooms
        if not tracked:
            return
        heads = await log_heads(tracked)
        for room in tracked:
            delivered = self.delivery.delivered_seq(room)
            if delivered is not None and heads.get(room, 0) > delivered:
                await self.delivery.fill(room)

    async def drop_socket(self, sid: str, reason: str) -> None:
        """Disconnect a socket that cannot keep up; it resumes from the log with its last seq."""
        if sid in self._dropping:
            return
        self._dropping.add(sid)
        try:
            session = self.registry.get(sid)
            eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
            eio_socket = self.sio.eio.sockets.get(eio_sid) if eio_sid else None
            if eio_socket is not None:
                # What it did not read is in the log; what it needs first is why it is being cut off.
                with contextlib.suppress(asyncio.QueueEmpty, ValueError):
                    while True:
                        eio_socket.queue.get_nowait()
                        eio_socket.queue.task_done()
            self.slow_consumers_dropped += 1
            log.warning("disconnecting socket %s (user %s): %s", sid,
                        session.user_id if session else "?", reason)
            await self.sio.emit(CLOSING, {"reason": reason}, to=sid)
            await self.sio.disconnect(sid)
            if session is not None and session.transport is not None:
                # A reader that never comes back would hold the socket open: cut it after a grace.
                asyncio.get_running_loop().call_later(5.0, session.transport.abort)
        finally:
            self._dropping.discard(sid)

    async def _gap_check_loop(self) -> None:
        interval = self.services.settings.gap_check_interval
        while True:
            await asyncio.sleep(interval)
            try:
                self.delivery.forget_idle_locks()
                await self.fill_rooms()
            except Exception as exc:  # noqa: BLE001 - database hiccup: next round
                log.warning("gap check failed (%s)", exc)

    async def _prune_loop(self) -> None:
        interval = self.services.settings.retention_prune_interval
        while True:
            await asyncio.sleep(interval)
            try:
                removed = await self.services.rooms.prune()
                if removed:
                    log.info("pruned %d room event(s) past retention", removed)
            except Exception as exc:  # noqa: BLE001
                log.warning("retention prune failed (%s)", exc)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(self._gap_check_loop(), name="gap-check"),
                 asyncio.create_task(self._prune_loop(), name="retention-prune")]
        if self.fanout is not None:
            await self.fanout.start()
        await self.presence.start()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.fanout is not None:
                await self.fanout.stop()
            await self.presence.stop()
