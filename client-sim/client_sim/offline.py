"""Offline flush: users queue hand records while offline and flush them with `POST /batch`.

Each of `clients` users builds `records` hand records (ids unique to this run, each tagged
with the run's id as its tournament_id) and flushes them in batches of `batch_size`, sending
every batch twice: the first answer is taken as lost on the way back, as a client retrying
its queue would. Checked: every item answered ok, the resend answered the same, and each
account's history, listed page by page, holds exactly this run's records (clients x records
in all, none twice). Measured: batch latency and records/s.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import Any

from client_sim.rest import Rest
from client_sim.stats import percentiles
from client_sim.tokens import take, user_id
from client_sim.workers import CLIENTS_PER_PROCESS, Workers, processes_for

Progress = Callable[[str, int, int], Any]
GAMES = ("nlhe", "plo", "stud", "razz")
PAGE = 200  # the history listing's largest page
USERS_AT_ONCE = 50  # per process


def hand_ids(run: str, user: int, records: int) -> list[str]:
    return [f"{run}-{user}-{j}" for j in range(records)]


def hand(run: str, hand_id: str, j: int) -> dict[str, Any]:
    return {"hand_id": hand_id, "game_type": GAMES[j % len(GAMES)], "tournament_id": run,
            "record_json": {"pot": 30 + j, "winner": f"seat{j % 9 + 1}",
                            "actions": ["post", "raise", "call", "check", "bet", "fold"]}}


class _Flusher:
    """One process's share of users, flushing their queues and counting what came back."""

    def __init__(self, rest: Rest, run: str, records: int, batch_size: int):
        self.rest, self.run, self.records, self.batch_size = rest, run, records, batch_size
        self.latencies: list[float] = []
        self.timeline: list[tuple[float, int]] = []
        self.item_errors: list[str] = []
        self.failed_calls: list[str] = []
        self.resend_mismatches = 0
        self.acked = 0

    async def flush(self, user: int, token: str) -> None:
        ids = hand_ids(self.run, user, self.records)
        queue = [{"id": f"op-{hid}", "op": "hand", "data": hand(self.run, hid, j)}
                 for j, hid in enumerate(ids)]
        for start in range(0, len(queue), self.batch_size):
            body = {"operations": queue[start:start + self.batch_size]}
            first = await self.rest.call("POST", "/batch", token, json=body)
            resent = await self.rest.call("POST", "/batch", token, json=body)
            self.latencies += [first.ms, resent.ms]
            for reply in (first, resent):
                if not reply.ok:
                    self.failed_calls.append(reply.error)
            if not first.ok:
                continue
            results = first.data["results"]
            self.item_errors += [r.get("code", "?") for r in results if r["status"] != "ok"]
            self.acked += sum(1 for r in results if r["status"] == "ok")
            self.resend_mismatches += int(resent.ok and resent.data != first.data)
            self.timeline.append((time.time(), len(body["operations"])))


async def _flush(index: int, share: list[tuple[int, str]], control: Any, url: str, run: str,
                 records: int, batch_size: int) -> dict[str, Any]:
    gate = asyncio.Semaphore(USERS_AT_ONCE)
    async with Rest(url, concurrency=USERS_AT_ONCE) as rest:
        flusher = _Flusher(rest, run, records, batch_size)

        async def one(user: int, token: str) -> None:
            async with gate:
                await flusher.flush(user, token)
            control[f"flushed{index}"] = flusher.acked

        started = time.time()
        await asyncio.gather(*(one(user, token) for user, token in share))
        finished = time.time()
    control[f"done{index}"] = 1
    return {"started": started, "finished": finished, "acked": flusher.acked,
            "latencies": flusher.latencies, "timeline": flusher.timeline,
            "item_errors": flusher.item_errors, "failed_calls": flusher.failed_calls,
            "resend_mismatches": flusher.resend_mismatches}


async def _listed(rest: Rest, token: str, run: str) -> list[str] | None:
    """Every hand id of this run in the account's history, following the cursor."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params = {"tournament_id": run, "limit": PAGE, **({"cursor": cursor} if cursor else {})}
        reply = await rest.call("GET", "/history/hand", token, params=params)
        if not reply.ok:
            return None
        ids += [item["hand_id"] for item in reply.data["items"]]
        cursor = reply.data["next_cursor"]
        if cursor is None:
            return ids


async def _verify(url: str, tokens: list[str], run: str, records: int) -> dict[str, int]:
    """Compare each account's listing with the records its users queued."""
    accounts: dict[int, tuple[str, set[str]]] = {}
    for user, token in enumerate(tokens):
        _, expected = accounts.setdefault(user_id(token), (token, set()))
        expected.update(hand_ids(run, user, records))
    counts = {"stored": 0, "missing": 0, "stored_twice": 0, "unexpected": 0, "unlisted": 0}
    async with Rest(url) as rest:
        listings = await asyncio.gather(*(_listed(rest, token, run)
                                          for token, _ in accounts.values()))
    for (_, expected), listed in zip(accounts.values(), listings):
        if listed is None:
            counts["unlisted"] += 1
            continue
        counts["stored"] += len(listed)
        counts["stored_twice"] += len(listed) - len(set(listed))
        counts["missing"] += len(expected - set(listed))
        counts["unexpected"] += len(set(listed) - expected)
    return counts


def run_offline_flush(url: str, tokens: list[str], clients: int, *, records: int = 50,
                      batch_size: int = 100, processes: int = 4,
                      per_process: int = CLIENTS_PER_PROCESS,
                      progress: Progress | None = None) -> dict[str, Any]:
    report = progress or (lambda label, done, total: None)
    run = "sim" + secrets.token_hex(6)
    users = take(tokens, clients)
    expected = clients * records
    count = processes_for(clients, processes, per_process)
    workers = Workers(_flush, list(enumerate(users)), count, url, run, records,
                      batch_size).start()
    workers.wait_for("done", lambda n: report("records acknowledged", n, expected),
                     count="flushed", timeout=3600)
    parts = workers.results()
    report("listings checked", 0, 1)
    stored = asyncio.run(_verify(url, users, run, records))
    report("listings checked", 1, 1)
    latencies = sorted(x for p in parts for x in p.get("latencies", []))
    marks = sorted((t, n) for p in parts for t, n in p.get("timeline", []))
    span = (max(p["finished"] for p in parts if "finished" in p)
            - min(p["started"] for p in parts if "started" in p)) if marks else 0.0
    acked = sum(p.get("acked", 0) for p in parts)
    problems = {"item_errors": sum(len(p.get("item_errors", [])) for p in parts),
                "failed_calls": sum(len(p.get("failed_calls", [])) for p in parts),
                "resend_mismatches": sum(p.get("resend_mismatches", 0) for p in parts)}
    worker_errors = [p["error"] for p in parts if "error" in p]
    ok = (stored["stored"] == expected and not any(v for k, v in stored.items() if k != "stored")
          and not any(problems.values()) and not worker_errors)
    errors = worker_errors + [e for p in parts for e in p.get("failed_calls", [])
                              + p.get("item_errors", [])]
    return {
        "scenario": "offline-flush", "ok": ok, "url": url, "run": run, "clients": clients,
        "records_per_user": records, "batch_size": batch_size, "processes": workers.size,
        "expected": expected, "acknowledged": acked, **stored, **problems,
        "requests": len(latencies), "seconds": round(span, 2),
        "records_per_s": round(acked / span) if span else None,
        **percentiles(latencies, "batch_"), "errors": list(dict.fromkeys(errors))[:5],
        "batch_latencies_ms": latencies, "timeline": [t for t, _ in marks],
        "timeline_weights": [n for _, n in marks], "timeline_label": "records/s",
    }
