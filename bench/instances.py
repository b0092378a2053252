"""Two feltsync instances behind Redis against one, driven by client-sim in the same run.

Both runs use PostgreSQL and Redis, what several instances share in production. client-sim
spreads the subscribers over the instances and publishes on the first, so the second
instance's members receive every event through Redis. Reports deliveries/s and latency for
one and two instances, the ratio, and what was lost (it must be nothing).

Run by `bench/fanout.py --instances`; BENCH_DATABASE_URL and BENCH_REDIS_URL say where the
services are (`bench/harness.py`).
"""

from __future__ import annotations

import asyncio
import secrets
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from fanout import _provision, feltsync_env, ratio
from harness import REDIS_URL, scratch_database_sync, start_instances


def _summary(sim: dict[str, Any]) -> dict[str, Any]:
    result = {k: v for k, v in sim.items() if k not in ("latencies_ms", "timeline", "parts")}
    result["lost"] = sim["lost_in_latency_phase"] + sim["burst_expected"] - sim["burst_delivered"]
    return result


def run_instances(work: Path, secret: str, clients: int, rate: int, seconds: int, burst: int,
                  pad: int, extra: dict[str, str]) -> dict[str, Any]:
    """client-sim's fan-out against one instance, then against two, both behind one Redis."""
    from client_sim.fanout import run_fanout

    results: dict[str, Any] = {}
    with scratch_database_sync() as database_url:
        token_file = work / "instances-tokens.txt"
        asyncio.run(_provision(database_url, secret, clients + 1, token_file))
        tokens = token_file.read_text().split()
        for count in (1, 2):
            prefix = f"bench{secrets.token_hex(3)}"
            with ExitStack() as stack:
                urls = start_instances(
                    stack, count,
                    lambda i, port, prefix=prefix: feltsync_env(work, port, secret, {
                        **extra, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
                        "REDIS_PREFIX": prefix}),
                    lambda i, count=count: work / f"instances{count}-{i}.log")
                print(f"feltsync, {count} instance(s) behind Redis: {clients} clients "
                      f"(client-sim) ...", flush=True)
                sim = run_fanout(urls, tokens, clients, rate=rate, seconds=seconds, burst=burst,
                                 pad=pad)
                results[str(count)] = _summary(sim)
    return results


def print_instances(results: dict[str, Any]) -> None:
    one, two = results["1"], results["2"]
    print(f"\ntwo instances behind Redis / one instance (client-sim, PostgreSQL + Redis, "
          f"{one['clients']} clients)")
    print(f"{'metric':<26}{'one':>12}{'two':>12}{'ratio':>10}")
    for label, key in (("deliveries/s (burst)", "deliveries_per_s"), ("p50 ms", "p50_ms"),
                       ("p99 ms", "p99_ms")):
        print(f"{label:<26}{one[key]!s:>12}{two[key]!s:>12}{ratio(two[key], one[key]):>10}")
    print(f"{'lost events':<26}{one['lost']:>12}{two['lost']:>12}")
