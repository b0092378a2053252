"""Publish→deliver latency and throughput of room events, on one and on two instances.

Starts feltsync instances as subprocesses on 127.0.0.1 sharing a fresh PostgreSQL database
(created and dropped here) and Redis, under a prefix of its own (`BENCH_DATABASE_URL`,
`BENCH_REDIS_URL`: bench/harness.py). Subscribers are socket.io clients of one
user, all in that user's room; a publisher socket sends `chat:send` to that room, so every
event takes the whole path: schema, transaction with the log append, commit, local delivery,
Redis fan-out, the other instance's ordered delivery. Each message carries its send time.

  one instance : publisher and all subscribers on A
  two instances: publisher on B, subscribers split over A and B

Reports p50/p99 publish→deliver latency (over every delivery), events published per second
and deliveries per second, and checks every subscriber got every seq once, in order. One room
is bounded by its serialised commits (the seq row lock); `--rooms N` spreads the load over N
rooms (each subscriber follows one) to show the aggregate.

Usage: .venv/bin/python bench/realtime_bench.py [--subscribers 20] [--messages 1000]
                                                [--inflight 1] [--rooms 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid

import socketio
from harness import REDIS_URL, ROOT, scratch_database, start_instances
from tortoise import Tortoise

sys.path.insert(0, str(ROOT))

from models.accounts import Device, User
from models.config import tortoise_config
from server.services.tokens import TokenService
from server.storage.orm import run_migrations

SECRET = "bench-secret-" + "b" * 40


def instance_env(db_url: str, prefix: str, name: str, var_dir: str, port: int) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix,
            "PORT": str(port), "JWT_SECRET": SECRET, "VAR_DIR": var_dir, "ENV": "test",
            "LOG_LEVEL": "WARNING", "INSTANCE_ID": name, "MIGRATE_ON_START": "false",
            "SOCKET_EVENT_RATE": "1000000", "SOCKET_EVENT_BURST": "1000000"}


class Subscriber:
    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.latencies: list[float] = []
        self.seqs: list[int] = []
        self.client.on("chat:message", self.on_message)

    async def on_message(self, event: dict) -> None:
        now = time.perf_counter()
        self.seqs.append(event["seq"])
        self.latencies.append(now - float(event["data"]["body"]))


async def connect(url: str, token: str, client: socketio.AsyncClient) -> None:
    ready = asyncio.Event()
    client.on("session:ready", lambda *_: ready.set())
    await client.connect(url, transports=["websocket"], auth={"token": token, "device_id": "bench"})
    await asyncio.wait_for(ready.wait(), 10)


async def run_case(label: str, urls: list[str], pub_url: str, users: list[tuple[str, str]],
                   subscribers: int, messages: int, inflight: int) -> None:
    """`users` is [(token, room)]: each user's room gets messages/len(users) events."""
    subs: list[tuple[Subscriber, int]] = []
    for i in range(subscribers):
        sub = Subscriber()
        owner = i % len(users)
        await connect(urls[i % len(urls)], users[owner][0], sub.client)
        subs.append((sub, owner))
    publishers = []
    for token, _ in users:
        publisher = socketio.AsyncClient(reconnection=False)
        await connect(pub_url, token, publisher)
        publishers.append(publisher)
    await asyncio.sleep(0.5)  # let the instances subscribe to the rooms' channels

    per_room = messages // len(users)
    start = time.perf_counter()

    async def send_loop(publisher: socketio.AsyncClient, room: str, ids: object) -> None:
        for i in ids:  # type: ignore[attr-defined]
            ack = await publisher.call("chat:send", {
                "channel": room, "client_msg_id": f"{label.replace(' ', '-')}-{i}",
                "body": repr(time.perf_counter())}, timeout=30)
            if ack.get("status") != "ok":
                raise RuntimeError(f"send failed: {ack}")

    loops = []
    for publisher, (_, room) in zip(publishers, users):
        ids = iter(range(per_room))
        loops += [send_loop(publisher, room, ids) for _ in range(max(1, inflight // len(users)))]
    await asyncio.gather(*loops)
    published = time.perf_counter() - start
    deadline = time.perf_counter() + 60
    while any(len(s.seqs) < per_room for s, _ in subs) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    delivered_in = time.perf_counter() - start
    for client in [*publishers, *(s.client for s, _ in subs)]:
        await client.disconnect()

    complete = all(s.seqs == sorted(set(s.seqs)) and len(s.seqs) == per_room for s, _ in subs)
    lat = sorted(x for s, _ in subs for x in s.latencies)
    p50 = statistics.median(lat) * 1000
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000
    deliveries = sum(len(s.seqs) for s, _ in subs)
    print(f"{label:14s} rooms={len(users)} subscribers={subscribers} messages={per_room * len(users)} "
          f"publish {per_room * len(users) / published:7.0f} ev/s  "
          f"deliver {deliveries / delivered_in:8.0f} ev/s  "
          f"latency p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  in-order-complete={complete}", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=20)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--inflight", type=int, default=1,
                        help="concurrent sends per room (1 = latency without queueing)")
    parser.add_argument("--rooms", type=int, default=1)
    args = parser.parse_args()

    async with scratch_database() as db_url:
        await run_migrations(db_url)
        await Tortoise.init(config=tortoise_config(db_url))
        try:
            tokens = TokenService(SECRET, "feltsync", 3600)
            users = []
            for _ in range(args.rooms):
                user = await User.create(login=f"bench_{uuid.uuid4().hex[:8]}",
                                         password_hash="!", nickname="bench")
                await Device.create(user=user, device_id="bench", name="bench", platform="pc")
                users.append((tokens.issue_access(user.id, "bench")[0], f"user_{user.id}"))
            prefix = f"feltsync_bench_{uuid.uuid4().hex[:6]}"
            with tempfile.TemporaryDirectory() as var_dir, contextlib.ExitStack() as stack:
                names = ("a", "b")
                url_a, url_b = await asyncio.to_thread(
                    start_instances, stack, len(names),
                    lambda i, port: instance_env(db_url, prefix, names[i],
                                                 f"{var_dir}/{names[i]}", port))
                await run_case("one instance", [url_a], url_a, users,
                               args.subscribers, args.messages, args.inflight)
                await run_case("two instances", [url_a, url_b], url_b, users,
                               args.subscribers, args.messages, args.inflight)
        finally:
            await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main())
