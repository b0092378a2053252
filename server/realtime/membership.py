"""Joining, resuming, replaying and leaving rooms on this instance.

A join with `last_seq` is a resume: the socket first receives exactly the logged events after
`last_seq` up to what this instance's members already have (most of them before taking the
room's delivery lock, the tail under it), then enters the room under that lock, so live events
continue right after them with no gap and no repeat.
A client behind the room's retention gets `resync_required` with the room's state endpoint
instead, and live events from the current seq on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import socketio

from server.errors import BadInput, Unavailable
from server.realtime.delivery import SLOW_CONSUMER, LocalDelivery
from server.realtime.registry import SocketSession
from server.services.rooms import RoomPolicy, log_head, read_log

if TYPE_CHECKING:
    from server.realtime.fanout import RedisFanout
    from server.realtime.presence import Presence

log = logging.getLogger(__name__)

REPLAY_PAGE = 500
REPLAY_DRAIN_POLLS = 500  # x 10 ms
RESYNC_REQUIRED = "resync_required"


class Membership:
    def __init__(self, sio: socketio.AsyncServer, delivery: LocalDelivery, rooms: RoomPolicy,
                 presence: Presence):
        self.sio = sio
        self.delivery = delivery
        self.rooms = rooms
        self.presence = presence
        self.fanout: RedisFanout | None = None
        self.resumes = 0
        self.replayed = 0
        self._joining: dict[tuple[str, str], asyncio.Lock] = {}

    async def join(self, session: SocketSession, room: str, last_seq: int | None) -> dict[str, Any]:
        """Authorize, resume from `last_seq` (or from now), and enter the room."""
        await self.rooms.authorize(session.user_id, room)
        # One join at a time per socket and room: two racing resumes would replay twice.
        key = (session.sid, room)
        lock = self._joining.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                return await self._join(session, room, last_seq)
        finally:
            if (not lock.locked() and not getattr(lock, "_waiters", None)
                    and self._joining.get(key) is lock):
                del self._joining[key]

    async def _join(self, session: SocketSession, room: str, last_seq: int | None) -> dict[str, Any]:
        sid = session.sid
        replayed = 0
        if last_seq is not None and room not in session.rooms:
            last_seq, replayed = await self._replay_unlocked(sid, room, last_seq)
        async with self.delivery.lock(room):
            current = self.delivery.delivered_seq(room)
            if current is None:
                current = await self.open_room_locked(room)
            else:
                # Members here may lag the log (Redis gap): catch them up so the resume point is the head.
                await self.delivery.fill_locked(room)
                current = self.delivery.delivered_seq(room) or current
            if room in session.rooms:
                return {"room": room, "seq": current, "replayed": 0, "resync_required": False}
            if last_seq is not None and last_seq > current:
                self._release_locked(room, leaving_sid=None)
                raise BadInput("last_seq is ahead of the room")
            resync = False
            if last_seq is not None:
                self.resumes += 1
            if last_seq is not None and last_seq < current:
                if last_seq < await self.rooms.retention_floor(room, current):
                    resync = True
                    await self.sio.emit(RESYNC_REQUIRED, {
                        "room": room, "seq": current, "state_url": self.rooms.state_url(room),
                    }, to=sid)
                else:
                    tail, _ = await self._replay_to(sid, room, last_seq, current)
                    replayed += tail
                    self.replayed += tail
            await self.sio.enter_room(sid, room)
            session.rooms.add(room)
        await self.presence.joined(session, room)
        return {"room": room, "seq": current, "replayed": replayed, "resync_required": resync,
                "present": await self.presence.members(room)}

    async def open_room_locked(self, room: str) -> int:
        """The room's first member here: deliver it from the log's head on, follow it on Redis,
        and return that head. Call with the room's delivery lock held."""
        head = await log_head(room)
        self.delivery.track(room, head)
        if self.fanout is not None:
            self.fanout.follow(room)
        return head

    async def _replay_unlocked(self, sid: str, room: str, last_seq: int) -> tuple[int, int]:
        """Replay up to the log's head now, without the room's lock; return (resume point, sent).

        The socket is not a member yet, so no live event can interleave with these, and a crowd
        resuming at once (a reconnect storm) replays in parallel instead of one after another.
        Only what was committed since is sent under the lock. Resyncs are left to that path.
        """
        head = await log_head(room)
        if last_seq >= head or last_seq < await self.rooms.retention_floor(room, head):
            return last_seq, 0
        sent, reached = await self._replay_to(sid, room, last_seq, head)
        self.replayed += sent
        return reached, sent

    async def _replay_to(self, sid: str, room: str, after_seq: int,
                         upto: int) -> tuple[int, int]:
        """Send the log's events in (after_seq, upto] to `sid`; return (sent, seq reached)."""
        # Paced by the socket's outgoing queue: a long replay must not itself trip the
        # slow-consumer bound, and a reader that does not drain it is cut off like any other.
        page_size = max(1, min(REPLAY_PAGE, self.delivery.max_outgoing // 2))
        sent = 0
        while after_seq < upto:
            await self._wait_for_drain(sid)
            page = await read_log(room, after_seq, upto, limit=page_size)
            if not page:
                break
            emit_many = getattr(self.sio.manager, "emit_many", None)
            if emit_many is not None:  # the fast path: the whole page in one write
                await emit_many([(r.event, r.wire()) for r in page], "/", sid)
            else:
                for record in page:
                    await self.sio.emit(record.event, record.wire(), to=sid)
            sent += len(page)
            after_seq = page[-1].seq
        return sent, after_seq

    async def _wait_for_drain(self, sid: str) -> None:
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
        eio_socket = self.sio.eio.sockets.get(eio_sid) if eio_sid else None
        if eio_socket is None:
            return
        for _ in range(REPLAY_DRAIN_POLLS):
            if eio_socket.queue.qsize() <= self.delivery.max_outgoing // 2:
                return
            await asyncio.sleep(0.01)
        if self.delivery.drop_socket is not None:
            asyncio.ensure_future(self.delivery.drop_socket(sid, SLOW_CONSUMER))
        raise Unavailable("the socket does not read its replay", code=SLOW_CONSUMER)

    async def replay(self, session: SocketSession, room: str, after_seq: int, limit: int) -> dict[str, Any]:
        """Missed events after `after_seq`, returned (not emitted) so they cannot overtake live ones."""
        await self.rooms.authorize(session.user_id, room)
        delivered = self.delivery.delivered_seq(room) if room in session.rooms else None
        upto = delivered if delivered is not None else await log_head(room)
        return await self.rooms.read_range(room, after_seq, upto, limit)

    async def leave(self, session: SocketSession, room: str) -> dict[str, Any]:
        if room in session.rooms:
            await self.sio.leave_room(session.sid, room)
            session.rooms.discard(room)
            await self._release(room, leaving_sid=None)
            await self.presence.left(session, room, at_once=True)
        return {"room": room, "left": True}

    async def disconnected(self, session: SocketSession) -> None:
        for room in list(session.rooms):
            await self._release(room, leaving_sid=session.sid)
            await self.presence.left(session, room)
        session.rooms.clear()

    async def _release(self, room: str, leaving_sid: str | None) -> None:
        async with self.delivery.lock(room):
            self._release_locked(room, leaving_sid)

    def _release_locked(self, room: str, leaving_sid: str | None) -> None:
        members = [sid for sid, _ in self.sio.manager.get_participants("/", room) if sid != leaving_sid]
        if not members:
            self.delivery.untrack(room)
            if self.fanout is not None:
                self.fanout.unfollow(room)
