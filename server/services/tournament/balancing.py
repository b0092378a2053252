"""Table balancing by the usual tournament rules, deterministic so the history replays exactly.

Break the emptiest table while the players fit on fewer tables; then move one player at a time
from the fullest table to the emptiest until no two tables differ by more than one player.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Move:
    player_id: str
    from_table: int
    from_seat: int
    to_table: int
    to_seat: int

    def as_dict(self) -> dict[str, object]:
        return {"player_id": self.player_id, "from_table": self.from_table,
                "from_seat": self.from_seat, "to_table": self.to_table, "to_seat": self.to_seat}


@dataclass(frozen=True)
class BalancePlan:
    moves: list[Move]
    broken_tables: list[int]

    @property
    def empty(self) -> bool:
        return not self.moves and not self.broken_tables


def plan_balance(seating: dict[int, dict[int, str]], seats_per_table: int) -> BalancePlan:
    """`seating` maps table → {seat → player_id} for the tables in play."""
    tables = {t: dict(seats) for t, seats in seating.items() if seats}
    moves: list[Move] = []
    broken: list[int] = []
    players = sum(len(s) for s in tables.values())
    if players == 0:
        return BalancePlan([], [])
    needed = math.ceil(players / seats_per_table)

    def emptiest(exclude: int | None = None) -> int:
        candidates = [t for t in tables if t != exclude and len(tables[t]) < seats_per_table]
        return min(candidates, key=lambda t: (len(tables[t]), t))

    def seat_at(table: int) -> int:
        return min(s for s in range(1, seats_per_table + 1) if s not in tables[table])

    def move(player_seat: int, src: int, dst: int) -> None:
        to_seat = seat_at(dst)
        player = tables[src].pop(player_seat)
        tables[dst][to_seat] = player
        moves.append(Move(player, src, player_seat, dst, to_seat))

    while len(tables) > needed:
        victim = min(tables, key=lambda t: (len(tables[t]), -t))
        for seat in sorted(tables[victim]):
            move(seat, victim, emptiest(exclude=victim))
        del tables[victim]
        broken.append(victim)

    while True:
        fullest = max(tables, key=lambda t: (len(tables[t]), -t))
        smallest = min(tables, key=lambda t: (len(tables[t]), t))
        if len(tables[fullest]) - len(tables[smallest]) <= 1:
            break
        move(max(tables[fullest]), fullest, smallest)
    return BalancePlan(moves, broken)
