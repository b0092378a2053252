"""Rating throughput on PostgreSQL and SQLite.

Starts one feltsync instance on 127.0.0.1 per backend (a fresh PostgreSQL database, created and
dropped here on `BENCH_DATABASE_URL`'s server (see bench/harness.py), and a temporary SQLite
file), then reports:
  - 9-player results/s applied one after another, and with 16 at once over a shared pool of
    players (the row locks serialise the ones that share a player);
  - the time to rate one result with `--field` players (a large tournament);
  - the time of a leaderboard page with the caller's rank over all the rated players.

Usage: .venv/bin/python bench/rating_bench.py [--results 300] [--players 200] [--field 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiohttp import web
from harness import ROOT, scratch_database

sys.path.insert(0, str(ROOT))

from models.accounts import User
from server import keys
from server.app import create_app
from server.settings import load_settings


async def run(database_url: str, var_dir: Path, args: argparse.Namespace) -> dict[str, str]:
    settings = load_settings(env="test", var_dir=var_dir, database_url=database_url,
                             jwt_secret="bench-secret-" + "x" * 40, log_level="WARNING")
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        ratings = app[keys.SERVICES].ratings
        await User.bulk_create([
            User(login=f"b_{uuid.uuid4().hex[:12]}", password_hash="!", nickname="bench")
            for _ in range(max(args.players, args.field))])
        ids = [u.id for u in await User.filter(nickname="bench").order_by("id")]
        rng = random.Random(7)

        def result() -> list[tuple[int, int]]:
            field = rng.sample(ids[:args.players], 9)
            return [(uid, place) for place, uid in enumerate(field, start=1)]

        half = args.results // 2
        started = time.perf_counter()
        for i in range(half):
            await ratings.apply_result("tournament", f"seq-{i}", result())
        sequential = half / (time.perf_counter() - started)

        pending = [(f"con-{i}", result()) for i in range(args.results - half)]
        started = time.perf_counter()
        for at in range(0, len(pending), 16):
            await asyncio.gather(*(ratings.apply_result("p2p", sid, placings)
                                   for sid, placings in pending[at:at + 16]))
        concurrent = len(pending) / (time.perf_counter() - started)

        big = [(uid, place) for place, uid in enumerate(ids[:args.field], start=1)]
        started = time.perf_counter()
        await ratings.apply_result("tournament", "big", big)
        big_seconds = time.perf_counter() - started

        laps = []
        for _ in range(20):
            started = time.perf_counter()
            await ratings.leaderboard("gr", limit=50, offset=100, caller_id=rng.choice(ids))
            laps.append(time.perf_counter() - started)
        return {
            "9-player results/s, sequential": f"{sequential:.0f}",
            "9-player results/s, 16 at once": f"{concurrent:.0f}",
            f"one {args.field}-player result": f"{big_seconds:.2f} s",
            "leaderboard page + caller rank (median)": f"{statistics.median(laps) * 1000:.1f} ms",
        }
    finally:
        await runner.cleanup()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=int, default=300)
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--field", type=int, default=1000)
    args = parser.parse_args()
    async with scratch_database() as pg_url:
        with tempfile.TemporaryDirectory() as tmp:
            for label, url in (("postgres", pg_url),
                               ("sqlite", f"sqlite://{Path(tmp) / 'bench.sqlite3'}")):
                figures = await run(url, Path(tmp) / label, args)
                for what, value in figures.items():
                    print(f"{label:8} {what:42} {value}")


if __name__ == "__main__":
    asyncio.run(main())
