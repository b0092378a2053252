"""Control events: room events that also act on this instance's sockets once delivered.

The delivery path calls the hook for every record it delivers locally (its own commits and
those fanned out from other instances alike), so a control event published on any instance
takes effect wherever the affected sockets are.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import socketio

from server.realtime.registry import ConnectionRegistry
from server.services.event_bus import RoomEventRecord

log = logging.getLogger(__name__)

SESSION_REVOKED = "session:revoked"
USER_ROOM_PREFIX = "user_"


def session_control(sio: socketio.AsyncServer, registry: ConnectionRegistry
                    ) -> Callable[[RoomEventRecord], Awaitable[None]]:
    """The after-delivery hook: `session:revoked` on `user_<id>` disconnects that device's
    sockets here, right after they received the event itself."""

    pending: set[asyncio.Future[None]] = set()

    async def after_delivery(record: RoomEventRecord) -> None:
        if record.event != SESSION_REVOKED or not record.room.startswith(USER_ROOM_PREFIX):
            return
        user_id = record.room[len(USER_ROOM_PREFIX):]
        device_id = record.payload.get("device_id")
        generation = record.payload.get("generation")
        if not user_id.isdigit() or not isinstance(device_id, str) or type(generation) is not int:
            return
        for sid in registry.sids_of_device(int(user_id), device_id):
            session = registry.get(sid)
            if session is not None and session.generation < generation:
                # Not awaited here: delivery holds the room's lock while hooks run, and the
                # disconnect handler leaves that same room.
                task = asyncio.ensure_future(sio.disconnect(sid))
                pending.add(task)
                task.add_done_callback(pending.discard)

    return after_delivery
