"""The event bus port services publish through.

Usage inside a service:

    async with bus.transaction() as tx:
        await Thing.create(..., using_db=tx.db)
        await tx.publish("user_7", "settings:update", {...})

`publish` appends to the durable per-room log with the room's next `seq` in the same database
transaction as the state change. Delivery happens only after commit, through the `deliver`
callable the realtime layer plugs in; a delivery failure is logged and never undoes or fails
the business action (the log is the source of truth and clients resume from it).

A bare `bus.publish(room, event, payload)` (no state change beside it) is group-committed:
publishes that arrive while a commit is under way wait for the next one and share it, so a
burst of N events costs a few commits instead of N, and reaches the delivery path as one list
(which the broadcast fast path writes to each member in one go). Each caller still gets its
own record back after delivery, in the order the publishes were made.
"""

from __future__ import annotations

import asyncio
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


@dataclass(slots=True)
class _Pending:
    room: str
    event: str
    payload: dict[str, Any]
    done: asyncio.Future[RoomEventRecord]


class EventBus:
    # Bounds one group commit (and so one delivery list) under a sustained flood.
    MAX_GROUP = 500

    def __init__(self, deliver: Deliver | None = None):
        self._deliver = deliver
        self._pending: list[_Pending] = []
        self._committer: asyncio.Task[None] | None = None

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
        """Publish one event with nothing else to commit (group-committed, see above)."""
        done: asyncio.Future[RoomEventRecord] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(room, event, payload, done))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_pending(), name="bus-commit")
        # The commit runs in its own task: a caller that gives up does not abort the others.
        return await done

    async def _commit_pending(self) -> None:
        group: list[_Pending] = []
        try:
            while self._pending:
                group = self._pending[:self.MAX_GROUP]
                del self._pending[:self.MAX_GROUP]
                await self._commit_group(group)
        except BaseException as exc:  # cancelled at shutdown: nobody may wait forever
            for item in [*group, *self._pending]:
                _settle(item.done, error=exc)
            self._pending.clear()
            raise
        finally:
            self._committer = None

    async def _commit_group(self, group: list[_Pending]) -> None:
        try:
            async with in_transaction() as db:
                tx = Publication(db)
                for item in group:
                    await tx.publish(item.room, item.event, item.payload)
        except Exception as exc:  # noqa: BLE001 - handed to the callers, never swallowed
            if len(group) == 1:
                _settle(group[0].done, error=exc)
                return
            # One bad publish must not fail the others: each again in a commit of its own.
            for item in group:
                await self._commit_group([item])
            return
        await self.deliver(tx.events)
        for item, record in zip(group, tx.events):
            _settle(item.done, record=record)

    async def deliver(self, events: list[RoomEventRecord]) -> None:
        if self._deliver is None:
            return
        try:
            await self._deliver(events)
        except Exception:
            log.exception("delivery failed for %d event(s); clients recover from the log", len(events))


def _settle(done: asyncio.Future[RoomEventRecord], *, record: RoomEventRecord | None = None,
            error: BaseException | None = None) -> None:
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(record)  # type: ignore[arg-type]
