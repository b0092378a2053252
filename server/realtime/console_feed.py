"""The admin console's feed: a `console:state` snapshot to the `console` room every interval.

It idles until a `console:subscribe` arrives and goes back to idling when the room is empty, so
an instance nobody watches builds no snapshots. The room holds only sockets the subscribe
handler let in (administrators); it is not a `<kind>_<id>` room, so `room:join` cannot reach it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from server.services.console import CONSOLE_ROOM, LiveRoom, LiveSocket, LiveView

if TYPE_CHECKING:
    from server.realtime.hub import Realtime
    from server.services.console import ConsoleService

log = logging.getLogger(__name__)

CONSOLE_STATE = "console:state"
NAMESPACE = "/"


class ConsoleFeed:
    def __init__(self, realtime: Realtime, console: ConsoleService, instance: str,
                 interval: float):
        self.realtime = realtime
        self.console = console
        self.instance = instance
        self.interval = interval
        self.pushed = 0

    def watchers(self) -> int:
        return sum(1 for _ in self.realtime.sio.manager.get_participants(NAMESPACE, CONSOLE_ROOM))

    def live_view(self) -> LiveView:
        rt = self.realtime
        registry, delivery, manager = rt.registry, rt.core.delivery, rt.sio.manager
        sockets = []
        for sid in registry.sids():
            session = registry.get(sid)
            if session is not None:
                sockets.append(LiveSocket(session.user_id, session.device_id))
        rooms = []
        for room in delivery.tracked_rooms():
            sids = [sid for sid, _ in manager.get_participants(NAMESPACE, room)]
            users = frozenset(s.user_id for s in map(registry.get, sids) if s is not None)
            rooms.append(LiveRoom(room, len(sids), users, delivery.delivered_seq(room)))
        return LiveView(self.instance, sockets, rooms, rt.published, delivery.delivered)

    async def push(self) -> None:
        state = await self.console.state(self.live_view())
        await self.realtime.sio.emit(CONSOLE_STATE, state.model_dump(mode="json"),
                                     room=CONSOLE_ROOM)
        self.pushed += 1

    async def run(self) -> None:
        """Forever: wait for a watcher, then push every `interval` while anyone watches."""
        while True:
            await self.console.until_watched()
            # A subscribe after this check sets the signal again, so no watcher is missed.
            while self.watchers():
                try:
                    await self.push()
                except Exception:  # a failed push must not stop the feed
                    log.exception("console push failed")
                await asyncio.sleep(self.interval)
