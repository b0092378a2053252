"""Hold many idle authenticated connections open, from several processes, and report."""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client_sim.light import LightClient, http_session
from client_sim.workers import Workers

CONNECT_CONCURRENCY = 100


FILE_LIMIT_TARGET = 65536  # 20k+ connections plus the server's own files, with room to spare


def raise_file_limit(target: int = FILE_LIMIT_TARGET) -> int:
    """Raise this process's open-file limit (inherited by the processes it starts).

    Raising the hard limit needs privileges (root in a container or CI); without them the
    soft limit goes up to the hard one.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, max(hard, target)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def connect_all(url: str, tokens: list[str], http: Any) -> tuple[list[LightClient], list[float], list[str]]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    clients: list[LightClient] = []
    latencies: list[float] = []
    errors: list[str] = []

    async def one(token: str) -> None:
        async with gate:
            client = LightClient(http, url, {"token": token, "device_id": "bench"})
            started = time.perf_counter()
            try:
                await client.connect()
            except Exception as exc:  # noqa: BLE001 - counted, the storm goes on
                errors.append(type(exc).__name__ + ": " + str(exc)[:120])
                return
            latencies.append((time.perf_counter() - started) * 1000)
            clients.append(client)

    await asyncio.gather(*(one(t) for t in tokens))
    return clients, latencies, errors


async def _hold(index: int, tokens: list[str], control: Any, url: str) -> dict[str, Any]:
    raise_file_limit()
    async with http_session() as http:
        clients, _, errors = await connect_all(url, tokens, http)
        control[f"held{index}"] = len(clients)
        while not control.get("release"):
            await asyncio.sleep(0.2)
        still_open = sum(1 for c in clients if not c.closed.is_set())
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return {"connected": len(clients), "still_open": still_open, "errors": errors[:5],
            "failed": len(errors)}


def hold_idle(url: str, token_file: Path, count: int, *, processes: int = 4,
              on_held: Callable[[], Any] | None = None, settle: float = 3.0) -> dict[str, Any]:
    """Open `count` connections (token i for connection i), hold them, probe, then close."""
    tokens = [t for t in token_file.read_text().split("\n") if t][:count]
    workers = Workers(_hold, tokens, processes, url).start()
    started = time.monotonic()
    n = len(workers._procs)
    while sum(1 for i in range(n) if f"held{i}" in workers.control) < n:
        time.sleep(0.2)
    connect_seconds = time.monotonic() - started
    time.sleep(settle)  # idle for a while: pings keep flowing, nothing else
    probe = on_held() if on_held is not None else None
    workers.control["release"] = True
    parts = workers.results()
    return {"requested": count, "connected": sum(p.get("connected", 0) for p in parts),
            "still_open_after_settle": sum(p.get("still_open", 0) for p in parts),
            "failed": sum(p.get("failed", 0) for p in parts),
            "errors": [e for p in parts for e in p.get("errors", [p.get("error")]) if e][:5],
            "connect_seconds": round(connect_seconds, 1), "probe": probe}
