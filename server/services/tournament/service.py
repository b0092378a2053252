"""Tournament use cases. Every state change and its room events commit in one transaction."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.accounts import User
from models.history import TournamentHistory
from models.realtime import RoomEvent
from models.tournaments import Tournament, TournamentSnapshot
from server.errors import BadInput, Conflict, Forbidden, NotFound, ValidationFailed
from server.services.event_bus import EventBus, Publication
from server.services.tournament.balancing import plan_balance
from server.services.tournament.clock import ClockState, next_transition_at, read_clock, timeline
from server.services.tournament.snapshot import (
    ID_PATTERN,
    SnapshotIn,
    check_snapshot,
    check_version,
    private_parts,
    public_state,
)
from server.services.tournament.structure import Structure

log = logging.getLogger(__name__)

RateResult = Callable[[str, list[tuple[int, int]]], Awaitable[Any]]


def tournament_room(tournament_id: str) -> str:
    return f"tournament_{tournament_id}"


class PlayerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    player_id: str = Field(pattern=ID_PATTERN)
    user_id: int | None = Field(default=None, ge=1)
    name: str = Field(default="", max_length=32)


class CreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80)
    is_public: bool = False
    structure: Structure
    table_count: int = Field(ge=1, le=1000)
    players: list[PlayerIn] = Field(min_length=2, max_length=10_000)

    @model_validator(mode="after")
    def _fits(self) -> CreateIn:
        ids = [p.player_id for p in self.players]
        users = [p.user_id for p in self.players if p.user_id is not None]
        if len(set(ids)) != len(ids) or len(set(users)) != len(users):
            raise ValueError("player ids and user ids must be unique")
        if self.table_count * self.structure.seats_per_table < len(self.players):
            raise ValueError("not enough seats for the players")
        return self


TOURNAMENT_ID_MAX = 32  # models.tournaments.Tournament.id


def _id_fits_column(tournament_id: str) -> bool:
    """An id longer than the column is no tournament (the ORM would refuse the lookup)."""
    return len(tournament_id) <= TOURNAMENT_ID_MAX
CLOCK_ACTIONS = ("start", "pause", "resume")


def _clock_state(t: Tournament) -> ClockState:
    return ClockState(t.clock_started_at, t.clock_paused_at, t.clock_paused_total)


def _clock_view(t: Tournament, now: float) -> dict[str, Any]:
    structure = Structure.model_validate(t.structure)
    reading = read_clock(structure, _clock_state(t), now)
    level = structure.levels[reading.level - 1]
    return {
        "started": reading.started, "paused": reading.paused, "on_break": reading.on_break,
        "level": reading.level, "phase": reading.phase.index, "game": level.game,
        "small_blind": level.small_blind, "big_blind": level.big_blind, "ante": level.ante,
        "remaining_s": None if reading.remaining_s is None else round(reading.remaining_s, 3),
        "server_time": now,
        "started_at": t.clock_started_at, "paused_at": t.clock_paused_at,
        "paused_total": t.clock_paused_total,
    }


class TournamentService:
    def __init__(self, bus: EventBus, rate_result: RateResult | None = None,
                 now: Callable[[], float] = time.time):
        self.bus = bus
        self.rate_result = rate_result
        self.now = now  # the wall clock; tests drive long tournaments with a controlled one

    # -- access -----------------------------------------------------------------------------
    @staticmethod
    def role(t: Tournament, user_id: int) -> str | None:
        if t.owner_id == user_id:
            return "owner"
        if any(p.get("user_id") == user_id for p in t.players):
            return "player"
        return "spectator" if t.is_public else None

    async def _visible(self, tournament_id: str, user_id: int) -> tuple[Tournament, str]:
        t = await Tournament.get_or_none(id=tournament_id) if _id_fits_column(tournament_id) else None
        role = self.role(t, user_id) if t else None
        if t is None or role is None:
            raise NotFound("no such tournament")
        return t, role

    async def may_join_room(self, user_id: int, tournament_id: str) -> bool:
        """Join authorization for `tournament_<id>`: participants, the owner, and spectators
        of public tournaments (room events never carry private fields)."""
        t = await Tournament.get_or_none(id=tournament_id) if _id_fits_column(tournament_id) else None
        return bool(t and self.role(t, user_id))

    # -- use cases ----------------------------------------------------------------------------
    async def create(self, owner_id: int, spec: CreateIn) -> dict[str, Any]:
        """Register a tournament with its structure and players; the owner hosts it."""
        user_ids = {p.user_id for p in spec.players if p.user_id is not None}
        if user_ids and await User.filter(id__in=list(user_ids)).count() != len(user_ids):
            raise ValidationFailed("a player's user_id does not exist",
                                   details=[{"loc": "players", "msg": "unknown user_id"}])
        tournament_id = uuid.uuid4().hex[:16]
        async with self.bus.transaction() as tx:
            t = await Tournament.create(
                id=tournament_id, owner_id=owner_id, name=spec.name, is_public=spec.is_public,
                structure=spec.structure.model_dump(), players=[p.model_dump() for p in spec.players],
                table_count=spec.table_count, using_db=tx.db,
            )
            await tx.publish(tournament_room(t.id), "tournament:created",
                             {"tournament_id": t.id, "name": t.name,
                              "structure": t.structure, "table_count": t.table_count,
                              "players": [{"player_id": p.player_id, "name": p.name}
                                          for p in spec.players]})
        return self._summary(t)

    async def clock(self, user_id: int, tournament_id: str, action: str,
                    now: float | None = None) -> dict[str, Any]:
        """Start, pause or resume the server clock (owner only)."""
        now = self.now() if now is None else now
        if action not in CLOCK_ACTIONS:
            raise BadInput(f"action must be one of {', '.join(CLOCK_ACTIONS)}")
        async with self.bus.transaction() as tx:
            t = await self._locked(tx, tournament_id, user_id, owner_only=True)
            if t.status == "finished":
                raise Conflict("the tournament is finished")
            state = _clock_state(t)
            await self._announce_phases(tx, t, now)
            if action == "start":
                if state.started_at is not None:
                    raise Conflict("the clock is already started")
                state = state.start(now)
            elif action == "pause":
                if state.started_at is None or state.paused_at is not None:
                    raise Conflict("the clock is not running")
                state = state.pause(now)
            else:
                if state.paused_at is None:
                    raise Conflict("the clock is not paused")
                state = state.resume(now)
            t.clock_started_at, t.clock_paused_at, t.clock_paused_total = (
                state.started_at, state.paused_at, state.paused_total)
            self._refresh_clock_fields(t, now)
            await t.save(using_db=tx.db)
            await tx.publish(tournament_room(t.id), f"clock:{action}", _clock_view(t, now))
        return _clock_view(t, now)

    async def submit_snapshot(self, user_id: int, snapshot: SnapshotIn,
                              now: float | None = None) -> dict[str, Any]:
        """Validate and accept a host's snapshot; publish the public state, private parts to
        their owners only, the balancing plan, the final table and the finish."""
        now = self.now() if now is None else now
        async with self.bus.transaction() as tx:
            t = await self._locked(tx, snapshot.tournament_id, user_id, owner_only=True)
            if t.status == "finished":
                raise Conflict("the tournament is finished", code="tournament_finished")
            check_version(snapshot, t.snapshot_version)
            structure = Structure.model_validate(t.structure)
            await self._announce_phases(tx, t, now)
            reading = read_clock(structure, _clock_state(t), now)
            check_snapshot(snapshot, structure=structure,
                           player_ids=[p["player_id"] for p in t.players],
                           max_tables=t.table_count, previous=t.state, clock=reading)
            previous = t.state
            state = public_state(snapshot, structure)
            private = private_parts(snapshot)
            await TournamentSnapshot.create(tournament=t, version=snapshot.version,
                                            public_state=state, private_by_player=private,
                                            submitted_by=user_id, using_db=tx.db)
            t.state, t.snapshot_version = state, snapshot.version
            room = tournament_room(t.id)
            await tx.publish(room, "tournament:update", {"tournament_id": t.id, "state": state})
            await self._publish_private(tx, t, snapshot.version, private)
            if state["final_table"] and not (previous and previous["final_table"]):
                await tx.publish(room, "final_table", {"tournament_id": t.id,
                                                       "players": len(state["players"])})
            if len(state["players"]) == 1:
                await self._finish(tx, t, state, now)
            else:
                await self._publish_balance(tx, t, state, structure, previous)
            self._refresh_clock_fields(t, now)
            await t.save(using_db=tx.db)
        if t.status == "finished" and self.rate_result is not None:
            await self._rate(t, state)
        return {"tournament_id": t.id, "version": t.snapshot_version, "status": t.status}

    async def resume(self, user_id: int, tournament_id: str, now: float | None = None) -> dict[str, Any]:
        """Everything a client needs after re-login on any device (Spec 21 §8)."""
        now = self.now() if now is None else now
        t, role = await self._visible(tournament_id, user_id)
        last = await RoomEvent.filter(room=tournament_room(t.id)).order_by("-seq").first()
        mine: dict[str, Any] | None = None
        player_id = next((p["player_id"] for p in t.players if p.get("user_id") == user_id), None)
        if player_id and t.snapshot_version:
            snap = await TournamentSnapshot.get(tournament_id=t.id, version=t.snapshot_version)
            mine = snap.private_by_player.get(player_id)
        return {**self._summary(t), "role": role, "clock": _clock_view(t, now), "state": t.state,
                "my_player_id": player_id, "my_private": mine,
                "room": tournament_room(t.id), "last_seq": last.seq if last else 0}

    async def events(self, user_id: int, tournament_id: str, after_seq: int, limit: int) -> dict[str, Any]:
        t, _ = await self._visible(tournament_id, user_id)
        rows = await RoomEvent.filter(room=tournament_room(t.id), seq__gt=after_seq) \
            .order_by("seq").limit(limit + 1)
        return {"room": tournament_room(t.id),
                "events": [{"seq": r.seq, "event": r.event, "data": r.payload} for r in rows[:limit]],
                "has_more": len(rows) > limit}

    async def advance_due_clocks(self, now: float | None = None) -> int:
        """Announce level and break changes that have come due; safe on every instance at once."""
        now = self.now() if now is None else now
        due = await Tournament.filter(next_transition_at__lte=now).values_list("id", flat=True)
        announced = 0
        for tournament_id in due:
            try:
                async with self.bus.transaction() as tx:
                    t = await self._for_update(tx, tournament_id)
                    if t is None:
                        continue
                    announced += await self._announce_phases(tx, t, now)
                    await t.save(using_db=tx.db)
            except _LostRace:
                continue
        return announced

    # -- internals ----------------------------------------------------------------------------
    async def _locked(self, tx: Publication, tournament_id: str, user_id: int, *,
                      owner_only: bool) -> Tournament:
        t = await self._for_update(tx, tournament_id)
        if t is None or self.role(t, user_id) is None:
            raise NotFound("no such tournament")
        if owner_only and t.owner_id != user_id:
            raise Forbidden("only the tournament's host may do this")
        return t

    @staticmethod
    async def _for_update(tx: Publication, tournament_id: str) -> Tournament | None:
        if not _id_fits_column(tournament_id):
            return None
        # Row lock on PostgreSQL serialises changes per tournament; SQLite serialises writers.
        query = Tournament.filter(id=tournament_id)
        if tx.db.capabilities.dialect == "postgres":
            query = query.select_for_update()
        return await query.using_db(tx.db).first()

    def _refresh_clock_fields(self, t: Tournament, now: float) -> None:
        structure = Structure.model_validate(t.structure)
        state = _clock_state(t)
        reading = read_clock(structure, state, now)
        if t.status == "finished":
            t.next_transition_at = None
            return
        t.next_transition_at = next_transition_at(structure, state, now)
        t.status = ("scheduled" if not reading.started else "paused" if reading.paused
                    else "on_break" if reading.on_break
                    else "final_table" if t.state and t.state["final_table"] else "running")

    async def _announce_phases(self, tx: Publication, t: Tournament, now: float) -> int:
        """Publish `level:up` / `break:start` / `break:end` / `game:switch` for every phase the
        clock has entered since the last announcement, exactly once across instances."""
        structure = Structure.model_validate(t.structure)
        reading = read_clock(structure, _clock_state(t), now)
        announced_before = t.clock_phase
        if reading.phase.index <= announced_before:
            self._refresh_clock_fields(t, now)
            return 0
        claimed = await Tournament.filter(id=t.id, clock_phase=t.clock_phase) \
            .using_db(tx.db).update(clock_phase=reading.phase.index)
        if not claimed:
            raise _LostRace()
        phases = timeline(structure)
        room = tournament_room(t.id)
        for phase in phases[t.clock_phase + 1: reading.phase.index + 1]:
            before = phases[phase.index - 1]
            if phase.kind == "break":
                await tx.publish(room, "break:start", {"tournament_id": t.id, "after_level": phase.level,
                                                       "duration_s": phase.duration_s, "phase": phase.index})
                continue
            if before.kind == "break":
                await tx.publish(room, "break:end", {"tournament_id": t.id, "phase": phase.index})
            level = structure.levels[phase.level - 1]
            old_game = structure.levels[before.level - 1].game
            await tx.publish(room, "level:up", {"tournament_id": t.id, "level": phase.level,
                                                "phase": phase.index, **level.model_dump()})
            if level.game != old_game:
                await tx.publish(room, "game:switch", {"tournament_id": t.id, "level": phase.level,
                                                       "from": old_game, "to": level.game})
        t.clock_phase = reading.phase.index
        self._refresh_clock_fields(t, now)
        return reading.phase.index - announced_before

    async def _publish_private(self, tx: Publication, t: Tournament, version: int,
                               private: dict[str, dict[str, Any]]) -> None:
        owners = {p["player_id"]: p.get("user_id") for p in t.players}
        for player_id, fields_ in private.items():
            user_id = owners.get(player_id)
            if user_id:
                await tx.publish(f"user_{user_id}", "tournament:private",
                                 {"tournament_id": t.id, "version": version,
                                  "player_id": player_id, "private": fields_})

    async def _publish_balance(self, tx: Publication, t: Tournament, state: dict[str, Any],
                               structure: Structure, previous: dict[str, Any] | None) -> None:
        if previous and len(previous["players"]) == len(state["players"]):
            return
        seating: dict[int, dict[int, str]] = {}
        for p in state["players"]:
            seating.setdefault(p["table"], {})[p["seat"]] = p["player_id"]
        plan = plan_balance(seating, structure.seats_per_table)
        if not plan.empty:
            await tx.publish(tournament_room(t.id), "tournament:balance",
                             {"tournament_id": t.id, "version": state["version"],
                              "moves": [m.as_dict() for m in plan.moves],
                              "broken_tables": plan.broken_tables})

    async def _finish(self, tx: Publication, t: Tournament, state: dict[str, Any], now: float) -> None:
        winner = state["players"][0]
        places = {e["player_id"]: e["place"] for e in state["eliminated"]}
        places[winner["player_id"]] = 1
        results = []
        for p in t.players:
            place = places[p["player_id"]]
            chips = winner["stack"] if place == 1 else 0
            results.append({"player_id": p["player_id"], "user_id": p.get("user_id"),
                            "place": place, "chips": chips})
            if p.get("user_id"):
                await TournamentHistory.get_or_create(
                    user_id=p["user_id"], tournament_id=t.id,
                    defaults={"rank": place, "chips": chips, "result_json": {
                        "tournament_id": t.id, "name": t.name, "place": place, "chips": chips,
                        "entrants": len(t.players), "source": "server"}},
                    using_db=tx.db)
        results.sort(key=lambda r: r["place"])
        t.status = "finished"
        t.next_transition_at = None
        await tx.publish(tournament_room(t.id), "tournament:finished",
                         {"tournament_id": t.id, "results": results, "finished_at": now})

    async def _rate(self, t: Tournament, state: dict[str, Any]) -> None:
        places = {e["player_id"]: e["place"] for e in state["eliminated"]}
        places[state["players"][0]["player_id"]] = 1
        placings = [(p["user_id"], places[p["player_id"]]) for p in t.players if p.get("user_id")]
        try:
            assert self.rate_result is not None
            await self.rate_result(t.id, placings)
        except Exception:
            # The result is durable in tournament_history; rating can be re-applied from it.
            log.exception("rating the result of tournament %s failed", t.id)

    @staticmethod
    def _summary(t: Tournament) -> dict[str, Any]:
        return {"tournament_id": t.id, "name": t.name, "owner_id": t.owner_id,
                "is_public": t.is_public, "status": t.status, "structure": t.structure,
                "table_count": t.table_count,
                "players": [{"player_id": p["player_id"], "name": p.get("name", ""),
                             "user_id": p.get("user_id")} for p in t.players],
                "snapshot_version": t.snapshot_version}


class _LostRace(Conflict):
    """Another instance announced the same clock phase first; this transaction rolls back."""

    code = "retry"
    default_message = "the tournament changed meanwhile: retry"
