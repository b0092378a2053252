"""Who is in a room, across instances.

Each instance keeps its own members in memory and, with Redis, mirrors them into one sorted
set per room (`<prefix>:presence:<room>`, member `<user_id>|<instance>`, score = expiry). A live
instance refreshes its entries every third of the TTL, so a killed instance's entries expire and
the first sweeper that removes one publishes the `presence:leave` (ZREM answers 1 only once).
`presence:join` / `presence:leave` are room events like any other: logged, seq'd, resumable.
A user whose last socket leaves stays present for `leave_grace` seconds, so a device that drops
and comes back at once announces nothing (a reconnect storm would otherwise log a leave and a
join per member, and every resuming member would replay them all).
`user_` rooms carry no presence: they are one person's own devices.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict

from redis.asyncio import Redis

from server.realtime.registry import SocketSession
from server.services.event_bus import EventBus
from server.storage.redis import make_redis

log = logging.getLogger(__name__)


def _tracks(room: str) -> bool:
    return not room.startswith("user_")


class Presence:
    def __init__(self, bus: EventBus, redis_url: str, prefix: str, instance_id: str, ttl: int,
                 leave_grace: float):
        self._bus = bus
        self._url = redis_url
        self._prefix = prefix
        self._instance = instance_id
        self._ttl = ttl
        self._leave_grace = leave_grace
        # A user whose socket set is empty is leaving: still present until its task runs.
        self._local: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
        self._leaving: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._redis: Redis | None = None
        self._task: asyncio.Task[None] | None = None

    def _key(self, room: str) -> str:
        return f"{self._prefix}:presence:{room}"

    def _member(self, user_id: int) -> str:
        return f"{user_id}|{self._instance}"

    async def members(self, room: str) -> list[int]:
        """User ids present in `room` on any live instance."""
        users = set(self._local.get(room, {}))
        if self._redis is not None:
            try:
                live = await self._redis.zrangebyscore(self._key(room), time.time(), "+inf")
                users.update(int(m.split(b"|", 1)[0]) for m in live)
            except Exception:  # noqa: BLE001 - Redis down: this instance's view only
                log.warning("presence read for %s fell back to local members", room)
        return sorted(users)

    async def joined(self, session: SocketSession, room: str) -> None:
        if not _tracks(room):
            return
        sockets = self._local[room][session.user_id]
        came_back = self._cancel_leave(room, session.user_id)
        first_here = not sockets and not came_back
        sockets.add(session.sid)
        if not first_here:
            return
        was_present = session.user_id in await self.members_elsewhere(room)
        await self._store(room, session.user_id)
        if not was_present:
            await self._announce(room, "presence:join", session.user_id)

    async def left(self, session: SocketSession, room: str, *, at_once: bool = False) -> None:
        """A socket left `room`: by disconnecting (announced after the grace) or on purpose."""
        if not _tracks(room) or room not in self._local:
            return
        users = self._local[room]
        sockets = users.get(session.user_id)
        if sockets is None:
            return
        sockets.discard(session.sid)
        if sockets or (room, session.user_id) in self._leaving:
            return
        if self._leave_grace and not at_once:
            self._leaving[(room, session.user_id)] = asyncio.create_task(
                self._leave_after_grace(room, session.user_id), name="presence-leave")
        else:
            await self._depart(room, session.user_id)

    def _cancel_leave(self, room: str, user_id: int) -> bool:
        """True if the user was leaving `room`: it never left, so nothing is announced."""
        task = self._leaving.pop((room, user_id), None)
        if task is None:
            return False
        task.cancel()
        return True

    async def _leave_after_grace(self, room: str, user_id: int) -> None:
        await asyncio.sleep(self._leave_grace)
        del self._leaving[(room, user_id)]
        await self._depart(room, user_id)

    async def _depart(self, room: str, user_id: int) -> None:
        users = self._local[room]
        del users[user_id]
        if not users:
            del self._local[room]
        await self._remove(room, user_id)
        if user_id not in await self.members_elsewhere(room):
            await self._announce(room, "presence:leave", user_id)

    async def members_elsewhere(self, room: str) -> set[int]:
        if self._redis is None:
            return set()
        try:
            live = await self._redis.zrangebyscore(self._key(room), time.time(), "+inf")
        except Exception:  # noqa: BLE001
            return set()
        mine = self._instance.encode()
        return {int(m.split(b"|", 1)[0]) for m in live if m.split(b"|", 1)[1] != mine}

    async def _store(self, room: str, user_id: int) -> None:
        if self._redis is not None:
            try:
                await self._redis.zadd(self._key(room), {self._member(user_id): time.time() + self._ttl})
            except Exception:  # noqa: BLE001 - the heartbeat writes it again
                log.warning("presence write for %s failed", room)

    async def _remove(self, room: str, user_id: int) -> None:
        if self._redis is not None:
            try:
                await self._redis.zrem(self._key(room), self._member(user_id))
            except Exception:  # noqa: BLE001 - the entry expires by itself
                log.warning("presence removal for %s failed", room)

    async def _announce(self, room: str, event: str, user_id: int) -> None:
        try:
            await self._bus.publish(room, event, {"user_id": user_id})
        except Exception:
            log.exception("could not publish %s for %s", event, room)

    async def _heartbeat(self) -> None:
        assert self._redis is not None
        while True:
            await asyncio.sleep(self._ttl / 3)
            try:
                expiry = time.time() + self._ttl
                async with self._redis.pipeline(transaction=False) as pipe:
                    for room, users in self._local.items():
                        for user_id in users:
                            pipe.zadd(self._key(room), {self._member(user_id): expiry})
                        pipe.expire(self._key(room), self._ttl * 2)
                    await pipe.execute()
                await self._sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.warning("presence heartbeat failed (%s)", exc)

    async def _sweep(self) -> None:
        """Remove expired entries of rooms with local members and announce their leave."""
        assert self._redis is not None
        now = time.time()
        for room in list(self._local):
            key = self._key(room)
            for member in await self._redis.zrangebyscore(key, "-inf", now):
                if await self._redis.zrem(key, member):
                    user_id = int(member.split(b"|", 1)[0])
                    if user_id not in self._local.get(room, {}) and \
                            user_id not in await self.members_elsewhere(room):
                        await self._announce(room, "presence:leave", user_id)

    async def start(self) -> None:
        if self._url:
            self._redis = make_redis(self._url)
            self._task = asyncio.create_task(self._heartbeat(), name="presence-heartbeat")

    async def stop(self) -> None:
        # Pending leaves are dropped: the entries expire by TTL and another instance announces them.
        tasks = [*self._leaving.values(), *([self._task] if self._task is not None else [])]
        self._leaving.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._redis is not None:
            await self._redis.aclose()
