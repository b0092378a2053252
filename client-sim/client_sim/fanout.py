"""Room broadcast fan-out: N subscribers in one room, one publisher, latency and throughput.

Same shape as the shared loadgen.js, so the two can be compared on one server: phase 1 sends
`rate` messages/s for `seconds` and records each delivery's latency (wall clock, one machine);
phase 2 sends `burst` messages back to back and counts deliveries/s until all arrived.
Subscribers are spread over several processes so the client is not the bottleneck. Given
several server URLs (instances sharing Redis), the processes take them in turn and the publisher
uses the first, so every delivery to the other instances crosses Redis. The subscribers batch
their reads (`read_batch_ms`, see `client_sim.loop`), so their latencies include up to that much.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

from client_sim.idle import connect_all, raise_file_limit
from client_sim.light import LightClient, http_session
from client_sim.stats import quantile
from client_sim.workers import Workers

READ_BATCH_MS = 1.0


@dataclass(frozen=True)
class Protocol:
    """Event names and the path of the bench fields: feltsync's bench room or the Node reference."""

    join: str | None = "bench:join"
    pub: str = "bench:pub"
    recv: str = "bench:state"
    path: str = "data"

    def wrap(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {self.path: fields} if self.path else fields

    def dig(self, data: Any) -> Any:
        return data.get(self.path) if self.path and isinstance(data, dict) else data


NODE_REFERENCE = Protocol(join=None, pub="pub", recv="state", path="")


async def _subscribe(index: int, tokens: list[str], control: Any, urls: list[str],
                     proto: Protocol, expect: dict[int, int]) -> dict[str, Any]:
    raise_file_limit()
    url = urls[index % len(urls)]
    latencies: list[float] = []
    counts = {1: 0, 2: 0}
    first_last: dict[int, list[float]] = {2: []}
    done = asyncio.Event()
    timeline: list[float] = []

    prefix = b'42["' + proto.recv.encode() + b'"'
    ts_re = re.compile(rb'"ts":([-0-9.eE+]+)')
    burst_total = expect[2] * len(tokens)
    clock, mark = time.time, timeline.append

    def on_raw(data: bytes) -> None:
        # The light path, run per delivery: find the phase digit without decoding the event
        # (phases are 1 and 2), and the send time only in the paced phase.
        if not data.startswith(prefix):
            return
        at = data.find(b'"ph":', len(prefix))
        if at < 0:
            return
        phase = data[at + 5] - 48
        now = clock()
        if phase == 2:
            mark(now)
            counts[2] += 1
            if counts[2] == burst_total:
                first_last[2] = [now]
                done.set()
        elif phase == 1:
            mark(now)
            counts[1] += 1
            latencies.append((now - float(ts_re.search(data).group(1))) * 1000)

    async with http_session() as http:
        clients: list[LightClient]
        clients, _, errors = await connect_all(url, tokens, http)
        for client in clients:
            client.on_raw = on_raw
        if proto.join:
            await asyncio.gather(*(c.call(proto.join, {}) for c in clients))
        control[f"ready{index}"] = len(clients)
        while not control.get("burst_sent"):
            await asyncio.sleep(0.05)
        try:
            await asyncio.wait_for(done.wait(), 60)
        except TimeoutError:
            pass
        control[f"done{index}"] = True
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return {"connected": len(clients), "failed": len(errors), "latencies": latencies,
            "counts": counts, "burst_done_at": first_last[2][0] if first_last[2] else None,
            "timeline": timeline}


def run_fanout(url: str | list[str], tokens: list[str], clients: int, *, rate: int = 5,
               seconds: int = 4, burst: int = 100, pad: int = 200, processes: int = 4,
               proto: Protocol = Protocol(), read_batch_ms: float = READ_BATCH_MS,
               progress: Any = None) -> dict[str, Any]:
    urls = [url] if isinstance(url, str) else url
    publisher_token, subscriber_tokens = tokens[0], tokens[1:clients + 1]
    expect = {1: rate * seconds, 2: burst}
    workers = Workers(_subscribe, subscriber_tokens, max(processes, len(urls)), urls, proto,
                      expect, read_batch_ms=read_batch_ms).start()
    n = workers.size
    report = (lambda done: progress(done, clients)) if progress else None
    connected = workers.wait_for("ready", report)
    if workers.tally("ready")[0] < n:  # a worker died before its subscribers were ready
        errors = [p["error"] for p in workers.results(timeout=30) if "error" in p]
        raise RuntimeError(f"fan-out subscribers failed: {errors}")
    pub = asyncio.run(_publish(urls[0], publisher_token, proto, rate, seconds, burst, pad,
                               workers.control, n))
    parts = workers.results()
    latencies = sorted(x for p in parts for x in p.get("latencies", []))
    done_at = [p["burst_done_at"] for p in parts if p.get("burst_done_at")]
    burst_delivered = sum(p.get("counts", {}).get(2, 0) for p in parts)
    burst_seconds = (max(done_at) - pub["burst_started"]) if len(done_at) == n else None

    return {
        "scenario": "fanout", "url": urls[0] if len(urls) == 1 else urls, "clients": clients, "connected": connected,
        "rate": rate, "seconds": seconds, "burst": burst, "pad": pad, "processes": n,
        "read_batch_ms": read_batch_ms,
        "p50_ms": quantile(latencies, 0.5), "p99_ms": quantile(latencies, 0.99),
        "max_ms": round(latencies[-1], 2) if latencies else None,
        "lost_in_latency_phase": expect[1] * connected - sum(p.get("counts", {}).get(1, 0) for p in parts),
        "burst_delivered": burst_delivered, "burst_expected": burst * connected,
        "burst_seconds": round(burst_seconds, 3) if burst_seconds else None,
        "deliveries_per_s": round(burst_delivered / burst_seconds) if burst_seconds else None,
        "latencies_ms": latencies,
        "timeline": sorted(t for p in parts for t in p.get("timeline", [])),
        "parts": [{k: v for k, v in p.items() if k not in ("latencies", "timeline")} for p in parts],
    }


async def _publish(url: str, token: str, proto: Protocol, rate: int, seconds: int, burst: int,
                   pad: int, control: Any, workers: int) -> dict[str, Any]:
    filler = "x" * pad
    async with http_session() as http:
        client = LightClient(http, url, {"token": token, "device_id": "bench"})
        await client.connect()
        if proto.join:
            await client.call(proto.join, {})
        for i in range(rate * seconds):
            await client.emit(proto.pub, proto.wrap({"ph": 1, "n": i, "ts": time.time(), "pad": filler}))
            await asyncio.sleep(1 / rate)
        await asyncio.sleep(1.0)
        started = time.time()
        for i in range(burst):
            await client.emit(proto.pub, proto.wrap({"ph": 2, "n": i, "ts": time.time(), "pad": filler}))
        control["burst_sent"] = True
        # Stay connected until every worker has its burst (a server may drop what a closing
        # publisher had in flight).
        deadline = time.monotonic() + 65
        while (sum(1 for i in range(workers) if control.get(f"done{i}")) < workers
               and time.monotonic() < deadline):
            await asyncio.sleep(0.05)
        await client.close()
    return {"burst_started": started}
