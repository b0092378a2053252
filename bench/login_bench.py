"""Login cost at the production bcrypt cost, and whether socket traffic stays responsive.

Starts one feltsync instance (SQLite in a temporary directory, BCRYPT_COST=12 by default) on
127.0.0.1, then:
  1. sequential logins: latency p50 / p95 of one login;
  2. a Socket.IO client pings (`system:ping`, acked) every 100 ms, first idle (baseline), then
     while N concurrent clients log in as fast as they can for D seconds: logins/s held, and the
     ping round trips under that load (p50 / p99 / max).
Lockout and REST limits are raised for the run so they do not cap the measurement.

    python bench/login_bench.py [--cost 12] [--concurrency 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time

import aiohttp
import socketio
from harness import feltsync_process, free_port, wait_http

PASSWORD = "bench password 123"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def post(http: aiohttp.ClientSession, url: str, body: dict) -> dict:
    async with http.post(url, json=body) as resp:
        data = await resp.json()
        if resp.status >= 300:
            raise RuntimeError(f"{url}: {resp.status} {data}")
        return data["data"]


async def pinger(url: str, token: str, stop: asyncio.Event, rtts: list[float]) -> None:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, auth={"token": token, "device_id": "pinger"},
                         transports=["websocket"], wait_timeout=10)
    try:
        while not stop.is_set():
            started = time.perf_counter()
            ack = await client.call("system:ping", {"nonce": "b"}, timeout=10)
            if ack.get("status") == "ok":
                rtts.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.1)
    finally:
        await client.disconnect()


async def run(args: argparse.Namespace, url: str) -> None:
    api = url + "/api/v1"
    async with aiohttp.ClientSession() as http:
        login = f"bench_{os.getpid()}"
        device = {"device_name": "bench", "platform": "pc"}
        pinger_pair = await post(http, api + "/auth/signup", {
            "login": login, "password": PASSWORD, "nickname": "bench", "device_id": "pinger", **device})

        async def one_login(device_id: str) -> float:
            started = time.perf_counter()
            await post(http, api + "/auth/login", {"login": login, "password": PASSWORD,
                                                   "device_id": device_id, **device})
            return (time.perf_counter() - started) * 1000

        sequential = [await one_login("seq") for _ in range(args.sequential)]

        stop = asyncio.Event()
        idle_rtts: list[float] = []
        idle = asyncio.create_task(pinger(url, pinger_pair["access_token"], stop, idle_rtts))
        await asyncio.sleep(3)
        stop.set()
        await idle

        stop = asyncio.Event()
        loaded_rtts: list[float] = []
        ping_task = asyncio.create_task(pinger(url, pinger_pair["access_token"], stop, loaded_rtts))
        done = 0

        async def worker(n: int) -> None:
            nonlocal done
            while not stop.is_set():
                await one_login(f"w{n}")
                done += 1

        await asyncio.sleep(0.5)
        started = time.perf_counter()
        workers = [asyncio.create_task(worker(n)) for n in range(args.concurrency)]
        await asyncio.sleep(args.seconds)
        stop.set()
        await asyncio.gather(*workers)
        elapsed = time.perf_counter() - started
        await ping_task

    print(f"bcrypt cost {args.cost}, {os.cpu_count()} CPUs")
    print(f"sequential login: p50 {statistics.median(sequential):.0f} ms, "
          f"p95 {pct(sequential, 0.95):.0f} ms over {len(sequential)} logins")
    print(f"concurrent logins ({args.concurrency} clients, {elapsed:.1f} s): "
          f"{done / elapsed:.1f} logins/s")
    print(f"socket ping RTT idle:       p50 {statistics.median(idle_rtts):.1f} ms, "
          f"p99 {pct(idle_rtts, 0.99):.1f} ms, max {max(idle_rtts):.1f} ms ({len(idle_rtts)} pings)")
    print(f"socket ping RTT under load: p50 {statistics.median(loaded_rtts):.1f} ms, "
          f"p99 {pct(loaded_rtts, 0.99):.1f} ms, max {max(loaded_rtts):.1f} ms ({len(loaded_rtts)} pings)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cost", type=int, default=12)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sequential", type=int, default=20)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="feltsync-bench-") as var_dir:
        env = {**os.environ, "ENV": "development", "VAR_DIR": var_dir, "PORT": str(port),
               "HOST": "127.0.0.1", "BCRYPT_COST": str(args.cost), "LOG_LEVEL": "WARNING",
               "LOGIN_ACCOUNT_LIMIT": "1000000/minute", "LOGIN_IP_LIMIT": "1000000/minute",
               "REST_IP_LIMIT": "1000000/minute", "DATABASE_URL": "", "REDIS_URL": ""}
        with feltsync_process(env):
            wait_http(url + "/healthz")
            asyncio.run(run(args, url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
