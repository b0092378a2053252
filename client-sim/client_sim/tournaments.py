"""Many tournaments at once: hosts push snapshots over REST, players and spectators watch.

Each host creates a public tournament; its watchers (players linked by user id, then
spectators) join with `tournament:join` from worker processes; then every host pushes
`snapshots` versions at `rate` per second. Measured: snapshot accept latency (the POST),
fan-out latency (POST sent -> `tournament:update` received, one machine's wall clock) and
deliveries/s. Checked: every watcher got each accepted version exactly once and in order, and
every event of its room once, in seq order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from client_sim.idle import raise_file_limit
from client_sim.members import RoomMember, bounded, error_kinds
from client_sim.rest import Rest
from client_sim.stats import percentiles
from client_sim.tokens import take, user_id
from client_sim.tourney import SnapshotWriter, create_tournament, room_head
from client_sim.workers import CLIENTS_PER_PROCESS, Workers, processes_for

Progress = Callable[[str, int, int], Any]
SETTLE_SECONDS = 30.0  # how long watchers wait for the last updates after the hosts finish


def _version_faults(versions: list[int], expected: int) -> dict[str, int]:
    distinct = set(versions)
    return {"updates_missed": len(set(range(1, expected + 1)) - distinct),
            "updates_duplicated": len(versions) - len(distinct),
            "updates_misordered": int(versions != sorted(versions))}


async def _watch(index: int, share: list[tuple[str, str]], control: Any,
                 url: str) -> dict[str, Any]:
    raise_file_limit()
    receipts: list[tuple[str, int, float]] = []
    versions: dict[int, list[int]] = {}

    def member(k: int, token: str, tid: str) -> RoomMember:
        versions[k] = []

        def on_update(event: str, data: dict[str, Any]) -> None:
            if event == "tournament:update":
                version = data["data"]["state"]["version"]
                versions[k].append(version)
                receipts.append((tid, version, time.time()))

        return RoomMember(url, token, f"tournament_{tid}", "tournament:join",
                          {"tournament_id": tid}, on_update)

    members = [member(k, token, tid) for k, (token, tid) in enumerate(share)]
    joins = await bounded(m.join for m in members)
    joined = [k for k, r in enumerate(joins) if not isinstance(r, BaseException)]
    control[f"joined{index}"] = len(joined)
    while "heads" not in control:
        control[f"updates{index}"] = len(receipts)
        await asyncio.sleep(0.2)
    heads, accepted = control["heads"], control["accepted"]
    tid_of = {k: tid for k, (_, tid) in enumerate(share)}
    deadline = time.monotonic() + SETTLE_SECONDS
    while (time.monotonic() < deadline
           and any((members[k].check.last or 0) < heads[tid_of[k]] for k in joined)):
        control[f"updates{index}"] = len(receipts)
        await asyncio.sleep(0.1)
    control[f"updates{index}"] = len(receipts)
    control[f"done{index}"] = 1
    totals = {"lost": 0, "duplicated": 0, "out_of_order": 0, "updates_missed": 0,
              "updates_duplicated": 0, "updates_misordered": 0}
    for k in joined:
        members[k].check.finish(heads[tid_of[k]])
        faults = {**members[k].check.summary(),
                  **_version_faults(versions[k], accepted[tid_of[k]])}
        for key in totals:
            totals[key] += faults[key]
    await asyncio.gather(*(m.close() for m in members), return_exceptions=True)
    return {"joined": len(joined), "failed": len(members) - len(joined),
            "errors": error_kinds(joins), **totals, "receipts": receipts}


async def _create_all(rest: Rest, hosts: list[str], watchers: list[list[str]],
                      players: int) -> tuple[list[str | None], list[str]]:
    async def one(t: int) -> str | None:
        linked = list(dict.fromkeys(user_id(tok) for tok in watchers[t]))[:players]
        reply = await create_tournament(rest, hosts[t], f"sim {t + 1}",
                                        [*linked, *[None] * (players - len(linked))])
        if not reply.ok:
            errors.append(reply.error)
        return reply.data["tournament_id"] if reply.ok else None

    errors: list[str] = []
    return list(await asyncio.gather(*(one(t) for t in range(len(hosts))))), errors


@dataclass
class _Pushed:
    """What the hosts did: when each version left, how long each accept took, what failed."""

    started: float = field(default_factory=time.time)
    sent_at: dict[tuple[str, int], float] = field(default_factory=dict)
    accept_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def _host(rest: Rest, token: str, writer: SnapshotWriter, snapshots: int, rate: float,
                offset: float, pushed: _Pushed) -> None:
    await asyncio.sleep(offset)  # hosts spread over one interval, not all at the same instant
    started = time.monotonic()
    for k in range(snapshots):
        body = writer.next()
        pushed.sent_at[(writer.tournament_id, body["version"])] = time.time()
        reply = await rest.call("POST", "/tournament/snapshot", token, json=body)
        if not reply.ok:
            writer.version -= 1
            pushed.errors.append(reply.error)
            return  # the host's view and the server's now differ: this host stops
        pushed.accept_ms.append(reply.ms)
        await asyncio.sleep(max(0.0, started + (k + 1) / rate - time.monotonic()))


def run_tournaments(url: str, tokens: list[str], clients: int, *, tournaments: int = 10,
                    snapshots: int = 20, rate: float = 2.0, players: int = 18,
                    processes: int = 4, per_process: int = CLIENTS_PER_PROCESS,
                    progress: Progress | None = None) -> dict[str, Any]:
    report = progress or (lambda label, done, total: None)
    hosts = take(tokens, tournaments)
    watcher_tokens = take(tokens, clients, start=tournaments)
    by_tournament = [watcher_tokens[t::tournaments] for t in range(tournaments)]

    async def create() -> tuple[list[str | None], list[str]]:
        async with Rest(url) as rest:
            return await _create_all(rest, hosts, by_tournament, players)

    tids, create_errors = asyncio.run(create())
    live = [t for t, tid in enumerate(tids) if tid is not None]
    report("tournaments created", len(live), tournaments)
    share = [(tok, tids[t]) for t in live for tok in by_tournament[t]]
    count = processes_for(len(share), processes, per_process)
    workers = Workers(_watch, share, count, url).start()
    joined = workers.wait_for("joined", lambda n: report("watchers joined", n, len(share)))

    pushed = _Pushed()
    writers = {t: SnapshotWriter(tids[t], players) for t in live}

    async def push() -> dict[str, int]:
        async with Rest(url) as rest:
            hosts_done = asyncio.gather(*(
                _host(rest, hosts[t], writers[t], snapshots, rate, k / len(live) / rate, pushed)
                for k, t in enumerate(live)))
            while not hosts_done.done():
                report("snapshots accepted", len(pushed.accept_ms), len(live) * snapshots)
                await asyncio.wait([hosts_done], timeout=0.2)
            report("snapshots accepted", len(pushed.accept_ms), len(live) * snapshots)
            return {tids[t]: await room_head(rest, hosts[t], tids[t]) or 0 for t in live}

    heads = asyncio.run(push())
    workers.control["accepted"] = {tids[t]: writers[t].version for t in live}
    workers.control["heads"] = heads
    expected = sum(writers[t].version * len(by_tournament[t]) for t in live)
    workers.wait_for("done", lambda n: report("updates received", n, expected),
                     timeout=SETTLE_SECONDS + 10, count="updates")
    parts = workers.results()
    receipts = [r for p in parts for r in p.get("receipts", [])]
    fanout_ms = [(t - pushed.sent_at[(tid, v)]) * 1000 for tid, v, t in receipts
                 if (tid, v) in pushed.sent_at]
    timeline = sorted(t for _, _, t in receipts)
    span = (timeline[-1] - pushed.started) if timeline else 0.0
    faults = {k: sum(p.get(k, 0) for p in parts) for k in (
        "lost", "duplicated", "out_of_order", "updates_missed", "updates_duplicated",
        "updates_misordered")}
    worker_errors = [p["error"] for p in parts if "error" in p]
    accepted = len(pushed.accept_ms)
    ok = (len(live) == tournaments and joined == clients and accepted == len(live) * snapshots
          and len(receipts) == expected and not any(faults.values()) and not worker_errors)
    return {
        "scenario": "tournaments", "ok": ok, "url": url, "tournaments": tournaments,
        "created": len(live), "clients": clients, "joined": joined, "players": players,
        "snapshots": snapshots, "rate": rate, "processes": workers.size,
        "snapshots_accepted": accepted, "snapshots_rejected": len(pushed.errors),
        "errors": (list(dict.fromkeys(create_errors + pushed.errors)) + worker_errors
                   + [e for p in parts for e in p.get("errors", [])])[:5],
        "updates_expected": expected, "updates_received": len(receipts), **faults,
        **percentiles(pushed.accept_ms, "accept_"), **percentiles(fanout_ms, "fanout_"),
        "deliveries_per_s": round(len(receipts) / span) if span else None,
        "accept_latencies_ms": sorted(pushed.accept_ms), "fanout_latencies_ms": sorted(fanout_ms),
        "timeline": timeline,
    }
