"""Snapshots a host submits, and the rules every one must pass before it is accepted.

Each rule has a name; a rejected snapshot says which rule failed and nothing is changed.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from server.errors import Conflict, ValidationFailed
from server.services.tournament.clock import ClockReading, timeline
from server.services.tournament.structure import Structure

ID_PATTERN = r"^[A-Za-z0-9_\-]{1,64}$"
LEVEL_GRACE_S = 30.0  # a hand in progress at a level change may still report the previous level


class PlayerStack(BaseModel):
    model_config = ConfigDict(extra="forbid")
    player_id: str = Field(pattern=ID_PATTERN)
    table: int = Field(ge=1, le=1000)
    seat: int = Field(ge=1, le=10)
    stack: int = Field(ge=0, le=10**15)
    private: dict[str, Any] | None = None  # hole cards and the like: never sent to others


class Eliminated(BaseModel):
    model_config = ConfigDict(extra="forbid")
    player_id: str = Field(pattern=ID_PATTERN)
    place: int = Field(ge=1, le=100_000)


class SnapshotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tournament_id: str = Field(pattern=ID_PATTERN)
    version: int = Field(ge=1, le=2**62)
    level: int = Field(ge=1, le=200)
    small_blind: int = Field(ge=0, le=10**12)
    big_blind: int = Field(gt=0, le=10**12)
    ante: int = Field(default=0, ge=0, le=10**12)
    table_count: int = Field(ge=1, le=1000)
    player_stacks: list[PlayerStack] = Field(max_length=10_000)
    eliminated_players: list[Eliminated] = Field(default_factory=list, max_length=10_000)
    on_break: bool = False
    final_table: bool = False


class SnapshotRejected(ValidationFailed):
    code = "snapshot_rejected"

    def __init__(self, rule: str, message: str):
        super().__init__(f"snapshot rejected ({rule}): {message}", details={"rule": rule})


def check_version(snapshot: SnapshotIn, current_version: int) -> None:
    if snapshot.version <= current_version:
        raise Conflict(f"snapshot version {snapshot.version} is not newer than {current_version}",
                       code="stale_snapshot", details={"rule": "version_monotonic",
                                                        "current_version": current_version})


def check_snapshot(snapshot: SnapshotIn, *, structure: Structure, player_ids: list[str],
                   max_tables: int, previous: dict[str, Any] | None, clock: ClockReading) -> None:
    """Raise SnapshotRejected naming the first rule the snapshot breaks."""
    registered = set(player_ids)
    seated = [p.player_id for p in snapshot.player_stacks]
    out = [e.player_id for e in snapshot.eliminated_players]

    if len(set(seated)) != len(seated) or len(set(out)) != len(out):
        raise SnapshotRejected("players_unique", "a player appears twice")
    if set(seated) & set(out):
        raise SnapshotRejected("eliminated_have_no_stack",
                               "an eliminated player still has a stack")
    unknown = (set(seated) | set(out)) - registered
    if unknown:
        raise SnapshotRejected("players_registered", f"unknown players: {sorted(unknown)[:5]}")
    missing = registered - set(seated) - set(out)
    if missing:
        raise SnapshotRejected("players_accounted", f"players missing: {sorted(missing)[:5]}")
    if any(p.stack == 0 for p in snapshot.player_stacks):
        raise SnapshotRejected("busted_players_eliminated",
                               "a player with no chips must be listed as eliminated")

    total = sum(p.stack for p in snapshot.player_stacks)
    expected = previous["total_chips"] if previous else structure.starting_stack * len(registered)
    if total != expected:
        raise SnapshotRejected("chips_conserved", f"stacks add up to {total}, expected {expected}")

    places = sorted(e.place for e in snapshot.eliminated_players)
    n = len(registered)
    if places != list(range(n - len(places) + 1, n + 1)):
        raise SnapshotRejected("places_consistent",
                               "eliminated places must be the last places, each once")
    if previous:
        before = {e["player_id"]: e["place"] for e in previous["eliminated"]}
        now = {e.player_id: e.place for e in snapshot.eliminated_players}
        if any(now.get(pid) != place for pid, place in before.items()):
            raise SnapshotRejected("eliminations_final", "an eliminated player came back or moved place")

    seats = [(p.table, p.seat) for p in snapshot.player_stacks]
    if len(set(seats)) != len(seats):
        raise SnapshotRejected("seats_unique", "two players share a seat")
    if any(p.seat > structure.seats_per_table for p in snapshot.player_stacks):
        raise SnapshotRejected("seats_unique", f"seats go up to {structure.seats_per_table}")
    tables_in_use = {p.table for p in snapshot.player_stacks}
    if max(tables_in_use, default=1) > max_tables:
        raise SnapshotRejected("tables_consistent", f"tables are numbered 1 to {max_tables}")
    if snapshot.table_count != len(tables_in_use):
        raise SnapshotRejected("tables_consistent",
                               f"table_count is {snapshot.table_count} but players sit at "
                               f"{len(tables_in_use)} tables")
    if snapshot.final_table != (len(tables_in_use) == 1):
        raise SnapshotRejected("final_table_flag",
                               "final_table is set exactly when everyone left sits at one table")

    _check_level(snapshot, structure, clock)


def _check_level(snapshot: SnapshotIn, structure: Structure, clock: ClockReading) -> None:
    allowed = {(clock.level, clock.on_break)}
    if clock.phase.index and clock.running_s - clock.phase.starts_at_s < LEVEL_GRACE_S:
        before = timeline(structure)[clock.phase.index - 1]
        allowed.add((before.level, before.kind == "break"))
    if (snapshot.level, snapshot.on_break) not in allowed:
        raise SnapshotRejected("level_matches_clock",
                               f"the server clock is at level {clock.level}"
                               f"{' (break)' if clock.on_break else ''}")
    if snapshot.level > len(structure.levels):
        raise SnapshotRejected("level_matches_clock", "level beyond the structure")
    level = structure.levels[snapshot.level - 1]
    if (snapshot.small_blind, snapshot.big_blind, snapshot.ante) != (
            level.small_blind, level.big_blind, level.ante):
        raise SnapshotRejected("blinds_match_structure",
                               f"level {snapshot.level} is {level.small_blind}/{level.big_blind}"
                               f" ante {level.ante}")


def public_state(snapshot: SnapshotIn, structure: Structure) -> dict[str, Any]:
    """What every member of the tournament room may see: no private fields."""
    return {
        "version": snapshot.version,
        "level": snapshot.level,
        "game": structure.levels[snapshot.level - 1].game,
        "small_blind": snapshot.small_blind,
        "big_blind": snapshot.big_blind,
        "ante": snapshot.ante,
        "table_count": snapshot.table_count,
        "on_break": snapshot.on_break,
        "final_table": snapshot.final_table,
        "total_chips": sum(p.stack for p in snapshot.player_stacks),
        "players": [{"player_id": p.player_id, "table": p.table, "seat": p.seat, "stack": p.stack}
                    for p in sorted(snapshot.player_stacks, key=lambda p: (p.table, p.seat))],
        "eliminated": [{"player_id": e.player_id, "place": e.place}
                       for e in sorted(snapshot.eliminated_players, key=lambda e: -e.place)],
    }


def private_parts(snapshot: SnapshotIn) -> dict[str, dict[str, Any]]:
    return {p.player_id: p.private for p in snapshot.player_stacks if p.private}
