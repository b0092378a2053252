"""A simulated client in one room: joins, checks the room's seqs, and can drop and resume.

The join event (`tournament:join` or `room:join`) takes `last_seq`; a resume sends the last
seq the client holds, and the server replays what it missed before anything live.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from client_sim.idle import CONNECT_CONCURRENCY
from client_sim.light import LightClient
from client_sim.seqcheck import SeqCheck

RoomEvent = Callable[[str, dict[str, Any]], None]  # (event name, its {room, seq, data})


class JoinRefused(Exception):
    pass


class RoomMember:
    def __init__(self, url: str, token: str, room: str, join_event: str,
                 join_payload: dict[str, Any], on_room_event: RoomEvent | None = None):
        self.url, self.token, self.room = url, token, room
        self.join_event, self.join_payload = join_event, join_payload
        self.on_room_event = on_room_event
        self.check = SeqCheck()
        self.client: LightClient | None = None
        self.replayed = 0
        self.resyncs = 0

    def _event(self, event: str, data: Any) -> None:
        if isinstance(data, dict) and data.get("room") == self.room and "seq" in data:
            self.check.see(data["seq"])
            if self.on_room_event is not None:
                self.on_room_event(event, data)

    async def join(self) -> None:
        """Connect and enter the room; a resume when this member has been in it before."""
        client = LightClient(None, self.url, {"token": self.token, "device_id": "sim"},
                             on_event=self._event)
        self.client = client
        await client.connect()
        payload = dict(self.join_payload)
        if self.check.last is not None:
            payload["last_seq"] = self.check.last
        ack = await client.call(self.join_event, payload)
        if not isinstance(ack, dict) or ack.get("status") != "ok":
            raise JoinRefused(str(ack)[:200])
        data = ack["data"]
        self.replayed += data.get("replayed", 0)
        self.resyncs += bool(data.get("resync_required"))
        self.check.start(data["seq"])

    def drop(self) -> None:
        if self.client is not None:
            self.client.drop()

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


async def bounded(calls: Iterable[Callable[[], Awaitable[Any]]],
                  limit: int = CONNECT_CONCURRENCY) -> list[Any]:
    """Run the calls with at most `limit` at once; each result, or the exception it raised."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            try:
                return await call()
            except Exception as exc:  # noqa: BLE001 - counted by the caller
                return exc

    return await asyncio.gather(*(one(c) for c in calls))


def error_kinds(results: Iterable[Any], limit: int = 5) -> list[str]:
    """The first few distinct failures among `bounded` results."""
    kinds: list[str] = []
    for r in results:
        if isinstance(r, BaseException):
            kind = type(r).__name__ + ": " + str(r)[:120]
            if kind not in kinds:
                kinds.append(kind)
    return kinds[:limit]


async def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True
