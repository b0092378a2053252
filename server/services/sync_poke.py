"""AutoSync: tell a user's devices that something changed, at most once per short window.

After a committed change a service calls `changed(user_id, clock)`. Changes for one user
within `window` seconds coalesce into one `sync:poke` on the `user_<id>` room carrying the
latest server clock, so a client whose last pull already reached that clock skips its pull.
"""

from __future__ import annotations

import asyncio
import logging

from server.services.event_bus import EventBus

log = logging.getLogger(__name__)

POKE_EVENT = "sync:poke"


def user_room(user_id: int) -> str:
    return f"user_{user_id}"


class SyncPoker:
    def __init__(self, bus: EventBus, window: float):
        self._bus = bus
        self._window = window
        self._latest: dict[int, int] = {}
        self._pending: dict[int, asyncio.Task[None]] = {}

    def changed(self, user_id: int, clock: int) -> None:
        """Note a committed change; the poke goes out when the user's window closes."""
        self._latest[user_id] = max(clock, self._latest.get(user_id, 0))
        if user_id not in self._pending:
            loop = asyncio.get_running_loop()
            self._pending[user_id] = loop.create_task(self._send_later(user_id))

    async def _send_later(self, user_id: int) -> None:
        try:
            await asyncio.sleep(self._window)
        finally:
            self._pending.pop(user_id, None)
        clock = self._latest.pop(user_id)
        try:
            await self._bus.publish(user_room(user_id), POKE_EVENT, {"clock": clock})
        except Exception:
            log.exception("sync:poke for user %s failed; clients still pull on reconnect", user_id)

    async def flush(self) -> None:
        """Send every pending poke now (used at shutdown, so no change goes unannounced)."""
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for user_id in list(self._latest):
            clock = self._latest.pop(user_id)
            try:
                await self._bus.publish(user_room(user_id), POKE_EVENT, {"clock": clock})
            except Exception:
                log.exception("sync:poke for user %s failed at shutdown", user_id)
