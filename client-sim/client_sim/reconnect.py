"""Reconnect storm: members of one room lose their connections at once and resume.

A host creates a public tournament and chats into its room at `rate` messages/s for
`seconds`; `clients` members (in worker processes) enter the room with `room:join`. While the
chat goes on, `drops` times, a `drop_fraction` of the members lose their connection at once
(no close frame, like a dead network), stay away for `outage` seconds and reconnect, rejoining
with the last seq they hold, so each has missed the chat of its outage.
Every member must end up with every event of the room exactly once, in seq order, up to the
room's head: lost = duplicated = 0. Measured: time from the reconnect to the rejoin ack (which
comes after the replay), how many events were replayed, and how long each chat message
took to be acknowledged meanwhile (the storm's cost to live traffic).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

from client_sim.idle import raise_file_limit
from client_sim.light import LightClient
from client_sim.members import RoomMember, bounded, error_kinds, wait_until
from client_sim.rest import Rest
from client_sim.stats import percentiles
from client_sim.tokens import take
from client_sim.tourney import create_tournament, room_head
from client_sim.workers import CLIENTS_PER_PROCESS, Workers, processes_for

Progress = Callable[[str, int, int], Any]
SETTLE_SECONDS = 30.0  # how long members wait to reach the room's head at the end


async def _storm(members: list[RoomMember], fraction: float, outage: float, rng: random.Random
                 ) -> tuple[list[float], list[BaseException]]:
    """Drop a fraction of the members at once and, after the outage, bring them back; (ms
    from the reconnect to the rejoin ack each, failures)."""
    dropped = rng.sample(members, round(fraction * len(members)))
    for member in dropped:
        member.drop()
    await asyncio.sleep(outage)
    dropped_at = time.perf_counter()

    async def back(member: RoomMember) -> float:
        await member.join()
        return (time.perf_counter() - dropped_at) * 1000

    results = await bounded(lambda m=m: back(m) for m in dropped)
    failed = [m for m, r in zip(dropped, results) if isinstance(r, BaseException)]
    for member in failed:
        members.remove(member)  # it holds no connection: its stream cannot be checked
    return ([r for r in results if not isinstance(r, BaseException)],
            [r for r in results if isinstance(r, BaseException)])


async def _members(index: int, share: list[str], control: Any, url: str, room: str,
                   drops: int, fraction: float, outage: float) -> dict[str, Any]:
    raise_file_limit()
    members = [RoomMember(url, tok, room, "room:join", {"room": room}) for tok in share]
    joins = await bounded(m.join for m in members)
    live = [m for m, r in zip(members, joins) if not isinstance(r, BaseException)]
    control[f"joined{index}"] = len(live)
    reconnect_ms: list[float] = []
    failures: list[BaseException] = []
    rng = random.Random(index)
    for storm in range(1, drops + 1):
        while control.get("drop", 0) < storm:
            await asyncio.sleep(0.01)
        times, failed = await _storm(live, fraction, outage, rng)
        reconnect_ms += times
        failures += failed
        control[f"resumed{storm}_{index}"] = len(times)
    while "head" not in control:
        await asyncio.sleep(0.05)
    head = control["head"]
    await wait_until(lambda: all((m.check.last or 0) >= head for m in live), SETTLE_SECONDS)
    for member in live:
        member.check.finish(head)
    await asyncio.gather(*(m.close() for m in members), return_exceptions=True)
    return {"joined": len([r for r in joins if not isinstance(r, BaseException)]),
            "reconnected": len(reconnect_ms), "reconnect_failed": len(failures),
            "errors": error_kinds(joins + failures), "reconnect_ms": reconnect_ms,
            "replayed": sum(m.replayed for m in live), "resyncs": sum(m.resyncs for m in live),
            "events_seen": sum(m.check.seen for m in live),
            "lost": sum(m.check.lost for m in live),
            "duplicated": sum(m.check.duplicated for m in live),
            "out_of_order": sum(m.check.out_of_order for m in live)}


async def _chat(url: str, token: str, room: str, rate: float, seconds: float, drops: int,
                control: Any, report: Progress) -> dict[str, Any]:
    """Send `rate` messages/s for `seconds`, setting off each storm at its time."""
    count = round(rate * seconds)
    storm_at = [seconds * k / (drops + 1) for k in range(1, drops + 1)]
    errors: list[str] = []
    ack_ms: list[float] = []
    client = LightClient(None, url, {"token": token, "device_id": "sim"})
    await client.connect()
    started = time.monotonic()
    for k in range(count):
        while storm_at and time.monotonic() - started >= storm_at[0]:
            storm_at.pop(0)
            control["drop"] = drops - len(storm_at)
        sent = time.perf_counter()
        ack = await client.call("chat:send", {"channel": room, "client_msg_id": f"sim-{k}",
                                              "body": f"message {k}"})
        ack_ms.append((time.perf_counter() - sent) * 1000)
        if not isinstance(ack, dict) or ack.get("status") != "ok":
            errors.append(str(ack.get("error", {}).get("code") if isinstance(ack, dict) else ack))
        report("messages published", k + 1, count)
        await asyncio.sleep(max(0.0, started + (k + 1) / rate - time.monotonic()))
    control["drop"] = drops  # a storm not reached (rate too low) still happens
    await client.close()
    return {"published": count - len(errors), "errors": errors, "ack_ms": ack_ms}


def run_reconnect_storm(url: str, tokens: list[str], clients: int, *, rate: float = 5,
                        seconds: float = 4, drops: int = 1, drop_fraction: float = 1.0,
                        outage: float = 0.5,
                        processes: int = 4, per_process: int = CLIENTS_PER_PROCESS,
                        progress: Progress | None = None) -> dict[str, Any]:
    report = progress or (lambda label, done, total: None)
    host, member_tokens = tokens[0], take(tokens, clients, start=1)

    async def create() -> Any:
        async with Rest(url) as rest:
            return await create_tournament(rest, host, "reconnect storm", [None, None])

    created = asyncio.run(create())
    if not created.ok:
        return {"scenario": "reconnect-storm", "ok": False, "errors": [created.error]}
    tid = created.data["tournament_id"]
    room = f"tournament_{tid}"
    count = processes_for(clients, processes, per_process)
    workers = Workers(_members, member_tokens, count, url, room, drops, drop_fraction,
                      outage).start()
    joined = workers.wait_for("joined", lambda n: report("members joined", n, clients))
    chat = asyncio.run(_chat(url, host, room, rate, seconds, drops, workers.control, report))
    expected_back = round(drop_fraction * joined) * drops
    workers.wait_for(f"resumed{drops}_", lambda n: report("members resumed", n, expected_back))

    async def head() -> int | None:
        async with Rest(url) as rest:
            return await room_head(rest, host, tid)

    workers.control["head"] = asyncio.run(head()) or 0
    parts = workers.results()
    total = {k: sum(p.get(k, 0) for p in parts) for k in (
        "reconnected", "reconnect_failed", "replayed", "resyncs", "events_seen", "lost",
        "duplicated", "out_of_order")}
    worker_errors = [p["error"] for p in parts if "error" in p]
    ok = (joined == clients and not chat["errors"] and not worker_errors
          and total["reconnect_failed"] == 0 and total["lost"] == 0
          and total["duplicated"] == 0 and total["out_of_order"] == 0)
    reconnect_ms = sorted(x for p in parts for x in p.get("reconnect_ms", []))
    return {
        "scenario": "reconnect-storm", "ok": ok, "url": url, "room": room, "clients": clients,
        "joined": joined, "rate": rate, "seconds": seconds, "drops": drops,
        "drop_fraction": drop_fraction, "outage": outage, "processes": workers.size,
        "published": chat["published"], "head_seq": workers.control["head"], **total,
        **percentiles(reconnect_ms, "reconnect_"), **percentiles(chat["ack_ms"], "publish_"),
        "errors": (worker_errors + list(dict.fromkeys(chat["errors"]))
                   + [e for p in parts for e in p.get("errors", [])])[:5],
        "reconnect_latencies_ms": reconnect_ms, "publish_latencies_ms": sorted(chat["ack_ms"]),
    }
