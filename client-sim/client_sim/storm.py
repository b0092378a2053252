"""Connect storm with real auth: every client connects at once (bounded per process)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from client_sim.idle import connect_all, raise_file_limit
from client_sim.light import http_session
from client_sim.stats import quantile
from client_sim.workers import Workers


async def _storm(index: int, tokens: list[str], control: Any, url: str) -> dict[str, Any]:
    raise_file_limit()
    async with http_session() as http:
        started = time.time()
        clients, latencies, errors = await connect_all(url, tokens, http)
        finished = time.time()
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return {"connected": len(clients), "latencies": latencies, "errors": errors[:5],
            "failed": len(errors), "started": started, "finished": finished}


def run_connect_storm(url: str, tokens: list[str], clients: int, *, processes: int = 4) -> dict[str, Any]:
    parts = Workers(_storm, tokens[:clients], processes, url).start().results()
    latencies = sorted(x for p in parts for x in p.get("latencies", []))
    connected = sum(p.get("connected", 0) for p in parts)
    span = max(p["finished"] for p in parts) - min(p["started"] for p in parts)

    return {"scenario": "connect-storm", "url": url, "clients": clients, "connected": connected,
            "failed": sum(p.get("failed", 0) for p in parts),
            "errors": [e for p in parts for e in p.get("errors", [p.get("error")]) if e][:5],
            "seconds": round(span, 2), "connects_per_s": round(connected / span) if span else None,
            "p50_ms": quantile(latencies, 0.5), "p99_ms": quantile(latencies, 0.99),
            "latencies_ms": latencies}
