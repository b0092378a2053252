"""History ingest and sync pull throughput against PostgreSQL.

Starts one feltsync instance on 127.0.0.1 on a fresh PostgreSQL database (created and dropped
here on `BENCH_DATABASE_URL`'s server, see bench/harness.py),
then reports:
  - batch ingest: records/s through `POST /history/hand` with `{records: [...]}` (one
    transaction per call), through `POST /batch` (the offline queue: a run of one op is one
    transaction), and through `POST /sync/push` (WatermelonDB push, one transaction per push);
  - pull: the time of `GET /sync/pull` that returns 10,000 changed rows to another device.

Usage: .venv/bin/python bench/sync_bench.py [--records 20000] [--pull-rows 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import orjson
from aiohttp import web
from harness import ROOT, scratch_database

sys.path.insert(0, str(ROOT))

from models.accounts import Device, User
from server.app import create_app
from server.settings import load_settings


def hand(i: int) -> dict:
    return {"hand_id": f"h{i}_{uuid.uuid4().hex[:8]}", "game_type": "nlhe", "tournament_id": None,
            "record_json": {"seat": i % 9, "board": ["As", "Kd", "7c", "2h", "9s"],
                            "actions": [["p1", "raise", 300], ["p2", "call", 300]], "pot": 600 + i}}


async def post(http: aiohttp.ClientSession, url: str, body: object, headers: dict) -> dict:
    async with http.post(url, data=orjson.dumps(body),
                         headers={**headers, "Content-Type": "application/json"}) as res:
        answer = await res.json()
        if res.status != 200:
            raise RuntimeError(f"{url}: {res.status} {answer}")
        return answer


async def run(records: int, pull_rows: int) -> None:
    async with scratch_database() as db_url:
        with tempfile.TemporaryDirectory() as var_dir:
            settings = load_settings(database_url=db_url, var_dir=Path(var_dir), env="test",
                                     jwt_secret="bench-" + "x" * 40, log_level="WARNING",
                                     max_body_bytes=8 * 1024 * 1024)
            app = create_app(settings)
            runner = web.AppRunner(app)
            await runner.setup()
            try:
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                base = f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1"
                user = await User.create(login=f"bench_{uuid.uuid4().hex[:8]}",
                                         password_hash="!", nickname="bench")
                tokens = {}
                for device in ("writer", "reader"):
                    await Device.create(user=user, device_id=device, name=device, platform="pc")
                    tokens[device] = {
                        "Authorization": "Bearer " + create_token(app, user.id, device)}
                async with aiohttp.ClientSession() as http:
                    await report_ingest(http, base, tokens["writer"], records)
                    await report_pull(http, base, tokens, pull_rows)
            finally:
                await runner.cleanup()


def create_token(app: web.Application, user_id: int, device: str) -> str:
    from server import keys

    return app[keys.SERVICES].tokens.issue_access(user_id, device)[0]


async def report_ingest(http: aiohttp.ClientSession, base: str, headers: dict,
                        records: int) -> None:
    per_call = 500
    start = time.perf_counter()
    for offset in range(0, records, per_call):
        body = {"records": [hand(i) for i in range(offset, min(records, offset + per_call))]}
        await post(http, f"{base}/history/hand", body, headers)
    elapsed = time.perf_counter() - start
    print(f"history ingest ({per_call}/call, one tx per call): {records} records in "
          f"{elapsed:.2f}s = {records / elapsed:,.0f} records/s")

    ops = min(records, 5000)
    start = time.perf_counter()
    for offset in range(0, ops, per_call):
        body = {"operations": [{"id": f"op{i}", "op": "hand", "data": hand(i)}
                               for i in range(offset, min(ops, offset + per_call))]}
        await post(http, f"{base}/batch", body, headers)
    elapsed = time.perf_counter() - start
    print(f"POST /batch ({per_call} hand ops/call, one tx per run): {ops} records in "
          f"{elapsed:.2f}s = {ops / elapsed:,.0f} records/s")

    async with http.get(f"{base}/sync/pull", headers=headers) as res:
        last_pulled_at = (await res.json())["data"]["timestamp"]
    pushed, per_push = min(records, 10000), 2500
    start = time.perf_counter()
    for offset in range(0, pushed, per_push):
        rows = [{"id": uuid.uuid4().hex[:16], "game_type": "nlhe", "tournament_id": None,
                 "record_json": orjson.dumps(hand(i)["record_json"]).decode()}
                for i in range(offset, min(pushed, offset + per_push))]
        await post(http, f"{base}/sync/push?last_pulled_at={last_pulled_at}",
                   {"hands": {"created": rows, "updated": [], "deleted": []}}, headers)
    elapsed = time.perf_counter() - start
    print(f"POST /sync/push ({per_push}/push, one tx per push): {pushed} records in "
          f"{elapsed:.2f}s = {pushed / elapsed:,.0f} records/s")


async def report_pull(http: aiohttp.ClientSession, base: str, tokens: dict, pull_rows: int) -> None:
    async with http.get(f"{base}/sync/pull", headers=tokens["reader"]) as res:
        since = (await res.json())["data"]["timestamp"]
    per_call = 500
    for offset in range(0, pull_rows, per_call):
        end = min(pull_rows, offset + per_call)
        body = {"records": [hand(1_000_000 + i) for i in range(offset, end)]}
        await post(http, f"{base}/history/hand", body, tokens["writer"])
    timings, sizes = [], []
    for _ in range(5):
        start = time.perf_counter()
        async with http.get(f"{base}/sync/pull", params={"last_pulled_at": str(since)},
                            headers=tokens["reader"]) as res:
            raw = await res.read()
        timings.append(time.perf_counter() - start)
        changes = orjson.loads(raw)["data"]["changes"]["hands"]
        sizes.append(len(changes["created"]) + len(changes["updated"]))
    assert all(size == pull_rows for size in sizes), sizes
    print(f"pull of {pull_rows} changed rows ({len(raw) / 1e6:.1f} MB): median "
          f"{statistics.median(timings) * 1000:.0f} ms, best {min(timings) * 1000:.0f} ms (5 runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--pull-rows", type=int, default=10000)
    args = parser.parse_args()
    asyncio.run(run(args.records, args.pull_rows))


if __name__ == "__main__":
    main()
