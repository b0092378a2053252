"""Helpers to drive tournaments in tests: a controllable clock and snapshot builders."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

from tests.apiclient import api
from tests.services import ROOT


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0):
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def structure(levels: list[tuple[int, int, int, str]], breaks: dict[int, int] | None = None,
              stack: int = 1000, seats: int = 9, duration: int = 600) -> dict[str, Any]:
    return {
        "starting_stack": stack, "seats_per_table": seats,
        "levels": [{"small_blind": sb, "big_blind": bb, "ante": ante, "game": game,
                    "duration_s": duration} for sb, bb, ante, game in levels],
        "breaks": [{"after_level": a, "duration_s": d} for a, d in (breaks or {}).items()],
    }


def level_blinds(spec: dict[str, Any], level: int) -> dict[str, int]:
    lv = spec["levels"][level - 1]
    return {"small_blind": lv["small_blind"], "big_blind": lv["big_blind"], "ante": lv["ante"]}


class SnapshotBook:
    """Keeps a host's view of the tournament and writes the next snapshot from it."""

    def __init__(self, tournament_id: str, spec: dict[str, Any], seating: dict[str, tuple[int, int]],
                 table_count: int):
        self.tournament_id = tournament_id
        self.spec = spec
        self.stacks = {pid: spec["starting_stack"] for pid in seating}
        self.seats = dict(seating)
        self.eliminated: list[tuple[str, int]] = []
        self.table_count = table_count
        self.version = 0
        self.level = 1
        self.on_break = False

    def bust(self, loser: str, winner: str) -> None:
        self.stacks[winner] += self.stacks.pop(loser)
        del self.seats[loser]
        place = len(self.stacks) + 1
        self.eliminated.append((loser, place))

    def apply_moves(self, moves: list[dict[str, Any]], broken: list[int]) -> None:
        for m in moves:
            assert self.seats[m["player_id"]] == (m["from_table"], m["from_seat"])
            self.seats[m["player_id"]] = (m["to_table"], m["to_seat"])

    def body(self, **override: Any) -> dict[str, Any]:
        tables = {t for t, _ in self.seats.values()}
        body = {
            "tournament_id": self.tournament_id, "version": self.version + 1, "level": self.level,
            **level_blinds(self.spec, self.level), "table_count": self.table_count,
            "on_break": self.on_break, "final_table": len(tables) == 1,
            "player_stacks": [{"player_id": pid, "table": t, "seat": s, "stack": self.stacks[pid]}
                              for pid, (t, s) in sorted(self.seats.items())],
            "eliminated_players": [{"player_id": pid, "place": place} for pid, place in self.eliminated],
        }
        body.update(copy.deepcopy(override))
        return body

    async def submit(self, app: Any, host: Any, **override: Any) -> tuple[int, dict[str, Any]]:
        status, reply = await api(app, "POST", "/tournament/snapshot", user=host, json=self.body(**override))
        if status == 200:
            self.version += 1
        return status, reply


class Watcher:
    """A real socket.io client (tests/js/tournament_watch.mjs) in a tournament room."""

    def __init__(self, proc):
        self.proc = proc

    @classmethod
    async def start(cls, server, user, tournament_id, *, seconds: int = 60):
        proc = await asyncio.create_subprocess_exec(
            "node", str(ROOT / "tests/js/tournament_watch.mjs"), server.url, user.token, tournament_id,
            str(seconds), stdout=asyncio.subprocess.PIPE, cwd=ROOT)
        watcher = cls(proc)
        watcher.seconds = seconds
        watcher.joined = json.loads(await asyncio.wait_for(proc.stdout.readline(), 20))["joined"]
        return watcher

    async def result(self):
        out, _ = await asyncio.wait_for(self.proc.communicate(), self.seconds + 10)
        return json.loads(out.decode().strip().splitlines()[-1])
