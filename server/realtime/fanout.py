"""Cross-instance fan-out over Redis pub/sub: one message per committed room event.

Each room has a channel of its own (`<prefix>:room:<room>`) and an instance subscribes only to
the rooms that have members on it, so its inbound traffic follows its own members, and the same
code maps onto sharded pub/sub later. Pub/sub is at-most-once: a message lost while Redis is
down is not retried here. The delivery side notices the seq gap (or is told Redis came back)
and reads the missing events from the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from redis.asyncio import Redis

from server import jsonutil
from server.services.event_bus import RoomEventRecord
from server.storage.redis import make_redis

log = logging.getLogger(__name__)

OnRecords = Callable[[list[RoomEventRecord]], Awaitable[None]]
OnResubscribed = Callable[[list[str]], Awaitable[None]]

_OUTBOX_LIMIT = 100_000  # beyond this, drop: the log and the gap fill carry the events
_INBOUND_BATCH = 500  # messages delivered together at most, like the event bus's group commit


def encode(record: RoomEventRecord) -> bytes:
    return jsonutil.dumps_bytes({"room": record.room, "seq": record.seq, "event": record.event,
                                 "payload": record.payload,
                                 "created_at": record.created_at.isoformat()})


def decode(raw: bytes) -> RoomEventRecord:
    msg = jsonutil.loads(raw)
    return RoomEventRecord(msg["room"], int(msg["seq"]), msg["event"], msg["payload"],
                           datetime.fromisoformat(msg["created_at"]))


class RedisFanout:
    def __init__(self, redis_url: str, prefix: str, on_records: OnRecords,
                 on_resubscribed: OnResubscribed):
        self._url = redis_url
        self._prefix = prefix
        self._on_records = on_records
        self._on_resubscribed = on_resubscribed
        self._rooms: set[str] = set()
        self._subscribed: set[str] = set()
        self._wake = asyncio.Event()
        self._outbox: asyncio.Queue[RoomEventRecord] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._publisher: Redis | None = None
        self.connected = False
        self.publish_failures = 0
        self.dropped = 0

    @property
    def subscribed(self) -> frozenset[str]:
        """Rooms whose channel this instance listens to right now."""
        return frozenset(self._subscribed)

    def channel(self, room: str) -> str:
        return f"{self._prefix}:room:{room}"

    def room_of(self, channel: bytes | str) -> str:
        name = channel.decode() if isinstance(channel, bytes) else channel
        return name[len(self._prefix) + len(":room:"):]

    # -- membership: subscribe to exactly the rooms with local members --

    def follow(self, room: str) -> None:
        if room not in self._rooms:
            self._rooms.add(room)
            self._wake.set()

    def unfollow(self, room: str) -> None:
        if room in self._rooms:
            self._rooms.discard(room)
            self._wake.set()

    # -- outbound: never blocks the publishing business action --

    def publish(self, records: list[RoomEventRecord]) -> None:
        for record in records:
            if self._outbox.qsize() >= _OUTBOX_LIMIT:
                self.dropped += 1
                continue
            self._outbox.put_nowait(record)

    async def _publish_loop(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty() and len(batch) < 500:
                batch.append(self._outbox.get_nowait())
            try:
                assert self._publisher is not None
                async with self._publisher.pipeline(transaction=False) as pipe:
                    for record in batch:
                        pipe.publish(self.channel(record.room), encode(record))
                    await pipe.execute()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis down: the log still has them
                self.publish_failures += len(batch)
                log.warning("fan-out publish of %d event(s) failed (%s); peers fill from the log",
                            len(batch), exc)

    # -- inbound: one loop owns the pub/sub connection --

    async def _listen_loop(self) -> None:
        backoff = 0.1
        while True:
            client = make_redis(self._url)
            pubsub = client.pubsub()
            try:
                self._subscribed = set()
                await self._sync_subscriptions(pubsub)
                if not self._subscribed:
                    await client.ping()
                if not self.connected:
                    self.connected = True
                    log.info("fan-out connected to Redis")
                backoff = 0.1
                # Anything published while we were not subscribed is in the log only.
                await self._on_resubscribed(sorted(self._subscribed))
                while True:
                    if self._wake.is_set():
                        await self._sync_subscriptions(pubsub)
                    if not self._subscribed:
                        await self._idle_until_woken(client)
                        continue
                    raws = await self._next_messages(pubsub)
                    if raws:
                        await self._handle(raws)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect with backoff
                if self.connected:
                    log.warning("fan-out lost Redis (%s); delivering from the log until it returns", exc)
                self.connected = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                await _quietly(pubsub.aclose())
                await _quietly(client.aclose())

    async def _idle_until_woken(self, client: Redis) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=5.0)
        except TimeoutError:
            await client.ping()  # notice an outage while idle too

    async def _sync_subscriptions(self, pubsub) -> None:  # type: ignore[no-untyped-def]
        self._wake.clear()
        wanted = set(self._rooms)
        added = wanted - self._subscribed
        gone = self._subscribed - wanted
        if added:
            await pubsub.subscribe(*(self.channel(r) for r in added))
        if gone:
            await pubsub.unsubscribe(*(self.channel(r) for r in gone))
        self._subscribed = wanted
        if added and self.connected:
            # Events published between the first local join and this subscribe went by unseen.
            await self._on_resubscribed(sorted(added))

    @staticmethod
    async def _next_messages(pubsub) -> list[bytes]:  # type: ignore[no-untyped-def]
        """Wait a little for one message, then take whatever else has already arrived.

        Delivered together, a burst's consecutive events of a room reach each member in one
        write, as they do on the publishing instance after its group commit.
        """
        raws: list[bytes] = []
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        while message is not None:
            if message["type"] == "message":
                raws.append(message["data"])
            if len(raws) >= _INBOUND_BATCH:
                break
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0)
        return raws

    async def _handle(self, raws: list[bytes]) -> None:
        records = []
        for raw in raws:
            try:
                records.append(decode(raw))
            except Exception:  # noqa: BLE001 - a foreign or corrupt message must not stop the loop
                log.warning("ignoring an undecodable fan-out message")
        if not records:
            return
        try:
            await self._on_records(records)
        except Exception:
            log.exception("local delivery of %d fanned-out event(s) failed", len(records))

    async def start(self) -> None:
        self._publisher = make_redis(self._url)
        self._tasks = [asyncio.create_task(self._listen_loop(), name="fanout-listen"),
                       asyncio.create_task(self._publish_loop(), name="fanout-publish")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._publisher is not None:
            await _quietly(self._publisher.aclose())


async def _quietly(aw: Awaitable[object]) -> None:
    with contextlib.suppress(Exception):  # closing a broken connection
        await aw
