"""A short, bounded soak on a real `feltsync serve` process: rounds of sockets connecting,
receiving room events and leaving. Its resident memory after the rounds stays flat against
a measurement taken after warm-up (no per-connection or per-event leak)."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import socketio

from tests.factories import create_user
from tests.services import ROOT, free_port
from tests.test_realtime_failover import JWT_SECRET, wait_http

CLIENTS = 20
EVENTS_PER_ROUND = 40
WARMUP_ROUNDS = 3
SOAK_ROUNDS = 8
ALLOWED_GROWTH_KB = 12_000  # allocator noise; a leak of a few KB per socket or event exceeds it


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def one_round(url: str, helper, users) -> int:
    received = 0
    done = asyncio.Event()
    clients = []
    for user in users:
        client = socketio.AsyncClient(reconnection=False)
        ready = asyncio.Event()
        client.on("session:ready", lambda *_, ready=ready: ready.set())

        async def on_tick(_payload):
            nonlocal received
            received += 1
            if received == len(users) * EVENTS_PER_ROUND:
                done.set()

        client.on("soak:tick", on_tick)
        await client.connect(url, transports=["websocket"], auth={"token": user.token,
                                                                  "device_id": "soak"})
        await asyncio.wait_for(ready.wait(), 10)
        clients.append(client)
    for i in range(EVENTS_PER_ROUND):
        for user in users:
            await helper.services.bus.publish(f"user_{user.id}", "soak:tick", {"i": i, "pad": "p" * 200})
    await asyncio.wait_for(done.wait(), 30)
    for client in clients:
        await client.disconnect()
    return received


async def test_memory_stays_flat_over_rounds_of_connections_and_events(
        start_app, make_settings, pg_url, redis_url, redis_prefix, tmp_path):
    helper = await start_app(make_settings(database_url=pg_url, redis_url=redis_url))
    users = [await create_user(helper) for _ in range(CLIENTS)]
    port = free_port()
    env = {**os.environ, "DATABASE_URL": pg_url, "REDIS_URL": redis_url, "REDIS_PREFIX": redis_prefix,
           "PORT": str(port), "JWT_SECRET": JWT_SECRET, "VAR_DIR": str(tmp_path / "var"),
           "ENV": "test", "LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_http(url)
        for _ in range(WARMUP_ROUNDS):
            await one_round(url, helper, users)
        baseline = rss_kb(proc.pid)
        for _ in range(SOAK_ROUNDS):
            assert await one_round(url, helper, users) == CLIENTS * EVENTS_PER_ROUND
        await asyncio.sleep(0.5)  # the last disconnects are processed
        after = rss_kb(proc.pid)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    growth = after - baseline
    print(f"soak: {SOAK_ROUNDS} rounds x {CLIENTS} sockets x {EVENTS_PER_ROUND} events, "
          f"RSS {baseline} kB -> {after} kB ({growth:+d} kB)")
    assert growth < ALLOWED_GROWTH_KB, f"RSS grew {growth} kB over the soak"
