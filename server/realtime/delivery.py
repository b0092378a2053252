"""Local delivery: hand committed room events to this instance's members, each seq once, in order.

Events reach this instance by several paths (its own commits, Redis fan-out, gap fills from the
log) in any order and possibly twice. Per room with local members it remembers the last seq it
emitted; an older or equal seq is dropped, a seq past a gap first pulls the missing ones from
the log. Every member socket of a room holds exactly that seq (a joining socket enters the room
only once its replay caught up to it, under the same room lock), so no socket gets a seq twice.

The emit itself is `sio.emit(event, wire, room=room)`: the broadcast fast path replaces the
Socket.IO client manager underneath it, not this ordering logic.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable

import socketio

from server.services.event_bus import RoomEventRecord
from server.services.rooms import read_log

log = logging.getLogger(__name__)

SLOW_CONSUMER = "slow_consumer"

DropSocket = Callable[[str, str], Awaitable[None]]
AfterEmit = Callable[[RoomEventRecord], Awaitable[None]]


class LocalDelivery:
    def __init__(self, sio: socketio.AsyncServer, max_outgoing: int):
        self.sio = sio
        self.max_outgoing = max_outgoing
        self._delivered: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.after_emit: list[AfterEmit] = []
        self.drop_socket: DropSocket | None = None
        self.delivered = 0
        self.gap_filled = 0
        self.failures = 0

    # -- rooms with local members --

    def lock(self, room: str) -> asyncio.Lock:
        return self._locks[room]

    def delivered_seq(self, room: str) -> int | None:
        return self._delivered.get(room)

    def track(self, room: str, seq: int) -> None:
        """Start delivering `room` after `seq` (call with the room lock held)."""
        self._delivered[room] = seq

    def untrack(self, room: str) -> None:
        """Stop delivering `room` (call with the room lock held, so the lock itself stays)."""
        self._delivered.pop(room, None)

    def tracked_rooms(self) -> list[str]:
        return list(self._delivered)

    def forget_idle_locks(self) -> None:
        """Drop the locks of rooms that no longer have members here and that nobody waits on."""
        for room in [r for r in self._locks if r not in self._delivered]:
            lock = self._locks[room]
            if not lock.locked() and not getattr(lock, "_waiters", None):
                del self._locks[room]

    # -- delivery --

    async def __call__(self, events: list[RoomEventRecord]) -> None:
        by_room: dict[str, list[RoomEventRecord]] = defaultdict(list)
        for record in events:
            if record.room in self._delivered:
                by_room[record.room].append(record)
        for room, records in by_room.items():
            async with self.lock(room):
                run: list[RoomEventRecord] = []  # consecutive seqs, emitted together
                for record in sorted(records, key=lambda r: r.seq):
                    last = run[-1].seq if run else self._delivered.get(room)
                    if last is None or record.seq <= last:
                        continue
                    if record.seq > last + 1:
                        await self._emit_run(run)
                        run = []
                        await self._fill_locked(room, upto=record.seq - 1)
                    run.append(record)
                await self._emit_run(run)
                self._check_backlog(room)

    async def fill(self, room: str, upto: int | None = None) -> None:
        """Emit what the log has past this room's delivered seq (after a Redis gap)."""
        async with self.lock(room):
            await self._fill_locked(room, upto)
            self._check_backlog(room)

    async def fill_locked(self, room: str) -> None:
        """`fill` for a caller that already holds the room lock."""
        await self._fill_locked(room, None)

    async def _fill_locked(self, room: str, upto: int | None) -> None:
        while True:
            last = self._delivered.get(room)
            if last is None:
                return
            batch = await read_log(room, last, upto)
            for record in batch:
                self.gap_filled += 1
                await self._emit(record)
            if len(batch) < 500:
                return

    async def _emit(self, record: RoomEventRecord) -> None:
        await self._emit_run([record])

    async def _emit_run(self, records: list[RoomEventRecord]) -> None:
        """Emit consecutive events of one room; a fast-path manager writes them in one go."""
        if not records:
            return
        room = records[0].room
        self._delivered[room] = records[-1].seq
        emit_many = getattr(self.sio.manager, "emit_many", None)
        try:
            if emit_many is not None and len(records) > 1:
                await emit_many([(r.event, r.wire()) for r in records], "/", room)
            else:
                for record in records:
                    await self.sio.emit(record.event, record.wire(), room=room)
            self.delivered += len(records)
        except Exception:
            self.failures += 1
            log.exception("emit of %s seq %d..%d failed", room, records[0].seq, records[-1].seq)
        for record in records:
            await self._after_emit(record)

    async def _after_emit(self, record: RoomEventRecord) -> None:
        for hook in self.after_emit:
            try:
                await hook(record)
            except Exception:
                self.failures += 1
                log.exception("after-delivery hook failed for %s seq %d", record.room, record.seq)

    # -- a socket that cannot keep up is dropped, never buffered without bound --

    def _check_backlog(self, room: str) -> None:
        if self.drop_socket is None:
            return
        sockets = self.sio.eio.sockets
        for sid, eio_sid in self.sio.manager.get_participants("/", room):
            eio_socket = sockets.get(eio_sid)
            if eio_socket is not None and eio_socket.queue.qsize() > self.max_outgoing:
                asyncio.ensure_future(self.drop_socket(sid, SLOW_CONSUMER))
