"""Publish→deliver latency and throughput of room events, on one and on two instances.

Starts feltsync instances as subprocesses on 127.0.0.1 sharing a fresh PostgreSQL database
(created and dropped here; server `BENCH_PG_ADMIN_URL`, default
postgres://postgres@127.0.0.1:5432/postgres) and Redis (`BENCH_REDIS_URL`, default
redis://127.0.0.1:6379/0, under a prefix of its own). Subscribers are socket.io clients of one
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
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import socketio
from tortoise import Tortoise

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.accounts import Device, User
from models.config import tortoise_config
from server.services.tokens import TokenService
from server.storage.orm import run_migrations

ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "bench-secret-" + "b" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def start_instance(db_url: str, prefix: str, name: str, var_dir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix,
           "PORT": str(port), "JWT_SECRET": SECRET, "VAR_DIR": var_dir, "ENV": "test",
           "LOG_LEVEL": "WARNING", "INSTANCE_ID": name, "MIGRATE_ON_START": "false",
           "SOCKET_EVENT_RATE": "1000000", "SOCKET_EVENT_BURST": "1000000"}
    proc = subprocess.Popen([sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(url + "/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


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

    name = f"feltsync_bench_{uuid.uuid4().hex[:8]}"
    await admin(f'CREATE DATABASE "{name}"')
    parts = urlsplit(ADMIN_URL)
    db_url = urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))
    procs: list[subprocess.Popen] = []
    try:
        await run_migrations(db_url)
        await Tortoise.init(config=tortoise_config(db_url))
        tokens = TokenService(SECRET, "feltsync", 3600)
        users = []
        for _ in range(args.rooms):
            user = await User.create(login=f"bench_{uuid.uuid4().hex[:8]}", password_hash="!",
                                     nickname="bench")
            await Device.create(user=user, device_id="bench", name="bench", platform="pc")
            users.append((tokens.issue_access(user.id, "bench")[0], f"user_{user.id}"))
        prefix = f"feltsync_bench_{uuid.uuid4().hex[:6]}"
        with tempfile.TemporaryDirectory() as var_dir:
            (a, url_a), (b, url_b) = (start_instance(db_url, prefix, n, f"{var_dir}/{n}")
                                      for n in ("a", "b"))
            procs = [a, b]
            await wait_up(url_a)
            await wait_up(url_b)
            await run_case("one instance", [url_a], url_a, users,
                           args.subscribers, args.messages, args.inflight)
            await run_case("two instances", [url_a, url_b], url_b, users,
                           args.subscribers, args.messages, args.inflight)
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        await Tortoise.close_connections()
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
