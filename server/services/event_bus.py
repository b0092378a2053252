"""The event bus port services publish through.

Usage inside a service:

    async with bus.transaction() as tx:
        await Thing.create(..., using_db=tx.db)
        await tx.publish("user_7", "settings:update", {...})

`publish` appends to the durable per-room log with the room's next `seq` in the same database
transaction as the state change. Delivery happens only after commit, through the `deliver`
callable the realtime layer plugs in; a delivery failure is logged and never undoes or fails
the business action (the log is the source of truth and clients resume from it).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.realtime import RoomEvent

log = logging.getLogger(__name__)

_NEXT_SEQ_SQL = (
    "INSERT INTO room_seq (room, last_seq) VALUES ({p1}, 1) "
    "ON CONFLICT (room) DO UPDATE SET last_seq = room_seq.last_seq + 1 RETURNING last_seq"
)


@dataclass(frozen=True, slots=True)
class RoomEventRecord:
    room: str
    seq: int
    event: str
    payload: dict[str, Any]
    created_at: datetime

    def wire(self) -> dict[str, Any]:
        """What a client receives: the room, its seq, and the event's data."""
        return {"room": self.room, "seq": self.seq, "data": self.payload}


Deliver = Callable[[list[RoomEventRecord]], Awaitable[None]]


async def next_seq(db: BaseDBAsyncClient, room: str) -> int:
    # One statement: the upsert takes the row lock, so concurrent publishers to one room
    # serialise here and seqs stay gap-free and unique.
    placeholder = "$1" if db.capabilities.dialect == "postgres" else "?"
    rows = await db.execute_query_dict(_NEXT_SEQ_SQL.format(p1=placeholder), [room])
    return int(rows[0]["last_seq"])


@dataclass
class Publication:
    db: BaseDBAsyncClient
    events: list[RoomEventRecord] = field(default_factory=list)

    async def publish(self, room: str, event: str, payload: dict[str, Any]) -> RoomEventRecord:
        seq = await next_seq(self.db, room)
        row = await RoomEvent.create(room=room, seq=seq, event=event, payload=payload,
                                     using_db=self.db)
        record = RoomEventRecord(room, seq, event, payload, row.created_at)
        self.events.append(record)
        return record


class EventBus:
    def __init__(self, deliver: Deliver | None = None):
        self._deliver = deliver

    def connect(self, deliver: Deliver) -> None:
        """Plug in (or swap) the delivery path."""
        self._deliver = deliver

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Publication]:
        async with in_transaction() as db:
            tx = Publication(db)
            yield tx
        if tx.events:
            await self.deliver(tx.events)

    async def publish(self, room: str, event: str, payload: dict[str, Any]) -> RoomEventRecord:
        """Publish one event in a transaction of its own."""
        async with self.transaction() as tx:
            return await tx.publish(room, event, payload)

    async def deliver(self, events: list[RoomEventRecord]) -> None:
        if self._deliver is None:
            return
        try:
            await self._deliver(events)
        except Exception:
            log.exception("delivery failed for %d event(s); clients recover from the log", len(events))
