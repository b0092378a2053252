"""The realtime side of one app instance: the Socket.IO server, its registry and delivery."""

from __future__ import annotations

from collections.abc import AsyncIterator

import socketio
from aiohttp import web

from server import jsonutil
from server.realtime.connection import install_connection_handlers
from server.realtime.control import session_control
from server.realtime.core import Deliver, RealtimeCore
from server.realtime.dispatch import EventSpec, register_events
from server.realtime.fastpath import install as install_websocket
from server.realtime.fastpath import make_client_manager
from server.realtime.registry import ConnectionRegistry
from server.services.container import Services
from server.services.event_bus import RoomEventRecord


class Realtime:
    def __init__(self, services: Services, events: list[EventSpec]):
        settings = services.settings
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            client_manager=make_client_manager(settings.broadcast_fast_path,
                                               settings.socket_max_outgoing),
            json=jsonutil.SocketIOJson,
            cors_allowed_origins=settings.cors_allowed_origins,
            ping_interval=settings.ping_interval,
            ping_timeout=settings.ping_timeout,
            max_http_buffer_size=settings.max_event_bytes + 1024,
            logger=settings.log_level.upper() == "DEBUG",
            engineio_logger=settings.log_level.upper() == "DEBUG",
        )
        install_websocket(self.sio, compress=settings.websocket_compression)
        self.registry = ConnectionRegistry()
        self.core = RealtimeCore(self.sio, services, self.registry,
                                 deliver=lambda events: self.deliver_local(events))
        # Swappable: every committed or fanned-out event goes through this callable.
        self.deliver_local: Deliver = self.core.delivery
        self.membership = self.core.membership
        install_connection_handlers(self.sio, services, self.registry, self.membership)
        if settings.bench_room:
            from events import bench

            events = [*events, *bench.enable(services)]
        register_events(self.sio, services, self.registry, events, self.membership)
        # Control events (session:revoked) act on local sockets after every local delivery.
        self.core.delivery.after_emit.append(session_control(self.sio, self.registry))
        services.bus.connect(self.on_commit)
        self.published = 0

    def attach(self, app: web.Application) -> None:
        self.sio.attach(app)

    async def on_commit(self, events: list[RoomEventRecord]) -> None:
        """After commit: members here first, then the other instances through Redis."""
        self.published += len(events)
        try:
            await self.deliver_local(events)
        finally:
            self.core.publish_remote(events)

    async def running(self, app: web.Application) -> AsyncIterator[None]:
        """cleanup_ctx: fan-out, presence and the gap and retention loops, after the database."""
        async with self.core.running():
            yield
