"""Model delivery and learning-buffer throughput on one in-process instance.

Starts feltsync on 127.0.0.1 (embedded SQLite in a temporary directory, or the database in
`--database-url`) with the local model store, then reports:
  - publish: wall time of `POST /ai/model/publish` for an ONNX file of `--model-mb` MB
    (streamed to disk, validated in a child process, stored), median of `--publishes`;
  - download: MB/s of the signed local download URL, and of a resumed `Range` download;
  - RL upload: lines/s of a streamed `--lines`-line JSONL upload, with the process's RSS
    growth during it (the body is generated on the fly, never held whole).

Usage: .venv/bin/python bench/ai_delivery.py [--model-mb 8] [--lines 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from aiohttp import web
from harness import ROOT

sys.path.insert(0, str(ROOT))

from models.accounts import Device, User
from server import keys
from server.app import create_app
from server.settings import load_settings
from tests.onnx_builders import tiny_model


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as var_dir:
        overrides = {"database_url": args.database_url} if args.database_url else {}
        settings = load_settings(var_dir=Path(var_dir), env="test", jwt_secret="bench-" + "x" * 40,
                                 log_level="WARNING", rest_ip_limit="100000/minute",
                                 **overrides)
        app = create_app(settings)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1"
        try:
            user = await User.create(login=f"bench_{uuid.uuid4().hex[:8]}", password_hash="!",
                                     nickname="bench", is_admin=True)
            await Device.create(user=user, device_id="bench", name="bench", platform="pc")
            token = app[keys.SERVICES].tokens.issue_access(user.id, "bench")[0]
            headers = {"Authorization": f"Bearer {token}"}
            async with aiohttp.ClientSession() as http:
                await bench_models(http, base, headers, args)
                await bench_rl(http, base, headers, args.lines)
        finally:
            await runner.cleanup()


async def bench_models(http: aiohttp.ClientSession, base: str, headers: dict,
                       args: argparse.Namespace) -> None:
    width = int(args.model_mb * 1024 * 1024 / 4)
    model = tiny_model(width=width)
    family = "bench" + uuid.uuid4().hex[:6]
    timings = []
    for i in range(args.publishes):
        started = time.perf_counter()
        async with http.post(f"{base}/ai/model/publish", data=model,
                             params={"family": family, "version": f"{family}_v{i}"},
                             headers={**headers, "Content-Type": "application/octet-stream"}) as res:
            if res.status != 201:
                raise RuntimeError(await res.text())
        timings.append(time.perf_counter() - started)
    print(f"publish {len(model) / 1e6:.1f} MB model: median {statistics.median(timings) * 1000:.0f} ms"
          f" over {len(timings)} (stream + child-process validation + store)")

    async with http.get(f"{base}/ai/model/latest", params={"family": family}, headers=headers) as res:
        url = (await res.json())["data"]["url"]
    started = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        async with http.get(url) as res:
            await res.read()
    elapsed = time.perf_counter() - started
    print(f"signed download: {rounds * len(model) / 1e6 / elapsed:.0f} MB/s "
          f"({elapsed / rounds * 1000:.1f} ms per {len(model) / 1e6:.1f} MB file)")
    half = len(model) // 2
    started = time.perf_counter()
    async with http.get(url, headers={"Range": f"bytes={half}-"}) as res:
        assert res.status == 206
        await res.read()
    print(f"resumed download of the second half: {(time.perf_counter() - started) * 1000:.1f} ms")


async def bench_rl(http: aiohttp.ClientSession, base: str, headers: dict, lines: int) -> None:
    record = json.dumps({"game": "badugi", "model_version": "badugi_v5",
                         "state": {"hand": [3, 17, 22, 41], "pot": 120, "street": 2},
                         "action": "raise", "reward": 0.25, "step": 3}).encode() + b"\n"
    per_chunk = 1000

    async def body():
        for start in range(0, lines, per_chunk):
            yield record * min(per_chunk, lines - start)

    rss_before = rss_bytes()
    started = time.perf_counter()
    async with http.post(f"{base}/ai/rl/buffer", data=body(),
                         headers={**headers, "Content-Type": "application/x-ndjson"}) as res:
        report = (await res.json())["data"]
    elapsed = time.perf_counter() - started
    growth = rss_bytes() - rss_before
    size = len(record) * lines
    print(f"RL upload: {report['accepted']} lines ({size / 1e6:.1f} MB) in {elapsed:.1f} s = "
          f"{report['accepted'] / elapsed:,.0f} lines/s; RSS growth {growth / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-mb", type=float, default=8.0)
    parser.add_argument("--publishes", type=int, default=3)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--database-url", default="")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
