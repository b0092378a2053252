"""Tournaments a simulated host can run: a one-level structure and snapshots that pass the
server's rules (every player accounted for, chips conserved, seats and tables consistent).

The clock is never started, so every snapshot reports level 1; each one moves a few chips
between two players, which changes the public state without busting anyone.
"""

from __future__ import annotations

import math
from typing import Any

from client_sim.rest import Reply, Rest

STACK = 1000
LEVEL = {"small_blind": 10, "big_blind": 20, "ante": 0, "duration_s": 6 * 3600, "game": "nlh"}
CHIPS_MOVED = 10


def create_body(name: str, player_users: list[int | None], seats: int = 9) -> dict[str, Any]:
    """A public tournament with one player per entry (linked to that user when not None)."""
    return {
        "name": name, "is_public": True,
        "structure": {"starting_stack": STACK, "seats_per_table": seats, "levels": [LEVEL],
                      "breaks": []},
        "table_count": math.ceil(len(player_users) / seats),
        "players": [{"player_id": f"p{i + 1}", "name": f"player {i + 1}",
                     **({"user_id": uid} if uid is not None else {})}
                    for i, uid in enumerate(player_users)],
    }


class SnapshotWriter:
    """A host's view of its tournament; `next()` writes the following snapshot."""

    def __init__(self, tournament_id: str, players: int, seats: int = 9):
        self.tournament_id = tournament_id
        self.tables = math.ceil(players / seats)
        self.stacks = [STACK] * players
        self.version = 0

    def next(self) -> dict[str, Any]:
        self.version += 1
        n = len(self.stacks)
        giver, taker = (self.version - 1) % n, self.version % n
        if self.stacks[giver] <= CHIPS_MOVED:
            giver, taker = taker, giver
        self.stacks[giver] -= CHIPS_MOVED
        self.stacks[taker] += CHIPS_MOVED
        return {
            "tournament_id": self.tournament_id, "version": self.version, "level": 1,
            "small_blind": LEVEL["small_blind"], "big_blind": LEVEL["big_blind"],
            "ante": LEVEL["ante"], "table_count": self.tables, "on_break": False,
            "final_table": self.tables == 1,
            # Player i sits at table i % tables + 1, so every table is in use.
            "player_stacks": [{"player_id": f"p{i + 1}", "table": i % self.tables + 1,
                               "seat": i // self.tables + 1, "stack": stack}
                              for i, stack in enumerate(self.stacks)],
            "eliminated_players": [],
        }


async def create_tournament(rest: Rest, host_token: str, name: str,
                            player_users: list[int | None], seats: int = 9) -> Reply:
    return await rest.call("POST", "/tournament/create", host_token,
                           json=create_body(name, player_users, seats))


async def room_head(rest: Rest, token: str, tournament_id: str) -> int | None:
    """The last seq of the tournament's room (what every member must reach)."""
    reply = await rest.call("GET", f"/tournament/resume/{tournament_id}", token)
    return reply.data["last_seq"] if reply.ok else None
