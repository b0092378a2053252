"""Ratings computed by the server, only from results the server holds.

Sources call `apply_result(kind, source_id, placings)` (the tournament service on a finish,
any server-side game session on its end). Each source result is stored once in
`rating_results`, moves every participant's rating once (`rating_changes` is unique per user
and source) and sends `rating:update` to each participant's `user_<id>` room in the same
transaction. Rating rows are locked in user-id order while a result is applied, so two results
for one player never lose an update. Clients never write ratings: `check_claim` compares what a
client says a result did with what the server stored, and writes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from models.accounts import User
from models.ratings import Rating, RatingChange, RatingResult
from models.tournaments import Tournament
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed, validation_details
from server.services import rating_math
from server.services.event_bus import EventBus, Publication
from server.services.rating_math import Skill

log = logging.getLogger(__name__)

ResultKind = Literal["tournament", "p2p", "mixed_game"]
RESULT_KINDS: tuple[str, ...] = ("tournament", "p2p", "mixed_game")
# Tournaments and P2P games move SR/ST, mixed-game sessions move MR/MT.
MIXED_KIND = "mixed_game"
SOURCE_ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"
# A client's rating engine may round differently; more than this is a disagreement.
CLAIM_TOLERANCE = 0.5
CLAIMABLE_FIELDS = {
    "sr_before": "sr_before", "sr_after": "sr_after", "mr_before": "mr_before",
    "mr_after": "mr_after", "new_global_rating": "gr_after",
}
# Rating a big field takes a while (quadratic): keep the event loop free.
_THREAD_FROM_PLAYERS = 200
_SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class AppliedResult:
    """What `apply_result` did: applied is False when the source had been applied before."""

    kind: str
    source_id: str
    applied: bool
    changes: list[dict[str, Any]]


@dataclass(frozen=True)
class Claim:
    """A client's `POST /rating/update`: names a held result and says what it believes it did."""

    reason: str
    source_id: str
    user_id: int | None = None
    claimed: dict[str, float] = field(default_factory=dict)


MAX_ID = 2**63 - 1
Score = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]


class ClaimIn(BaseModel):
    """The Spec 21 §4.2 shape. The numbers are what the client believes; the server checks them."""

    model_config = ConfigDict(extra="forbid")
    reason: ResultKind
    source_id: str = Field(pattern=SOURCE_ID_PATTERN)
    user_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    sr_before: Score | None = None
    sr_after: Score | None = None
    mr_before: Score | None = None
    mr_after: Score | None = None
    new_global_rating: Score | None = None

    def claim(self) -> Claim:
        return Claim(reason=self.reason, source_id=self.source_id, user_id=self.user_id,
                     claimed=self.model_dump(include=set(CLAIMABLE_FIELDS), exclude_none=True))


def claim_batch_handler(service: RatingService) -> Any:
    """The `POST /batch` operation `rating_claim`: `data` is one claim. It writes nothing, so
    replaying it from the offline queue is harmless."""

    async def check(call: Any, data: Any) -> dict[str, Any]:
        try:
            body = ClaimIn.model_validate(data)
        except ValidationError as exc:
            raise ValidationFailed(details=validation_details(exc)) from exc
        return await service.check_claim(call.user_id, body.claim())

    return check


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _rating_view(user_id: int, row: Rating | None, now: datetime, growth: float) -> dict[str, Any]:
    if row is None:
        fresh = rating_math.newcomer()
        return {"user_id": user_id, "rated": False, "sr": fresh.mu, "st": fresh.sigma,
                "mr": fresh.mu, "mt": fresh.sigma, "gr": rating_math.global_rating(fresh, fresh),
                "st_now": fresh.sigma, "mt_now": fresh.sigma, "last_update": None, "version": 0}
    idle = _idle_days(row.last_update, now)
    return {
        "user_id": user_id, "rated": True, "sr": row.sr, "st": row.st, "mr": row.mr,
        "mt": row.mt, "gr": row.gr,
        "st_now": rating_math.after_idle(Skill(row.sr, row.st), idle, growth).sigma,
        "mt_now": rating_math.after_idle(Skill(row.mr, row.mt), idle, growth).sigma,
        "last_update": _iso(row.last_update), "version": row.version,
    }


class RatingChangeFields(BaseModel):
    """What `change_view` gives, less `at`: the REST and socket schemas each add it, typed as
    their wire needs (a datetime in the OpenAPI schema, a string in the event types)."""

    id: int
    reason: str
    source_id: str
    place: int
    field_size: int
    sr_before: float
    sr_after: float
    st_before: float
    st_after: float
    mr_before: float
    mr_after: float
    mt_before: float
    mt_after: float
    gr_before: float
    new_global_rating: float


def change_view(change: RatingChange) -> dict[str, Any]:
    return {
        "id": change.id, "reason": change.reason, "source_id": change.source_id,
        "place": change.place, "field_size": change.field_size,
        "sr_before": change.sr_before, "sr_after": change.sr_after,
        "st_before": change.st_before, "st_after": change.st_after,
        "mr_before": change.mr_before, "mr_after": change.mr_after,
        "mt_before": change.mt_before, "mt_after": change.mt_after,
        "gr_before": change.gr_before, "new_global_rating": change.gr_after,
        "at": _iso(change.created_at),
    }


def _idle_days(since: datetime | None, now: datetime) -> float:
    if since is None:
        return 0.0
    return max(0.0, (now - since).total_seconds() / _SECONDS_PER_DAY)


def _user_room(user_id: int) -> str:
    return f"user_{user_id}"


class RatingService:
    def __init__(self, bus: EventBus, *, idle_growth_per_day: float, max_placings: int):
        self.bus = bus
        self.idle_growth_per_day = idle_growth_per_day
        self.max_placings = max_placings

    # -- sources ------------------------------------------------------------------------------
    async def apply_result(self, kind: str, source_id: str,
                           placings: list[tuple[int, int]]) -> AppliedResult:
        """Rate one finished result the server holds, exactly once per (kind, source_id).

        placings: (user_id, place) for every rated participant, place 1 the best, equal places
        for ties. Re-applying the same source returns the stored changes with applied=False;
        the same source with different placings is a Conflict. Raises ValidationFailed for a
        malformed result and NotFound for unknown users.
        """
        ordered = self._check_result(kind, source_id, placings)
        user_ids = [user_id for user_id, _ in ordered]
        if await User.filter(id__in=user_ids).count() != len(user_ids):
            raise NotFound("a placing names a user that does not exist")
        held = await RatingResult.get_or_none(kind=kind, source_id=source_id)
        if held is not None:
            return await self._already_applied(held, ordered)
        try:
            return await self._apply(kind, source_id, ordered)
        except IntegrityError:
            # The same source arrived twice at once, with disjoint players, and the other
            # one committed first.
            held = await RatingResult.get_or_none(kind=kind, source_id=source_id)
            if held is None:
                raise
            return await self._already_applied(held, ordered)

    async def rate_tournament(self, tournament_id: str, placings: list[tuple[int, int]]) -> AppliedResult:
        """The tournament service's hook: a finished tournament's final placings.

        A tournament whose levels rotate through two or more games is also a mixed-game
        session: it moves MR as a `mixed_game` result under the same source id, once.
        """
        tournament = await Tournament.get_or_none(id=tournament_id)
        if tournament is None or tournament.status != "finished":
            raise Conflict("only a finished tournament is rated", code="tournament_not_finished")
        outcome = await self.apply_result("tournament", tournament_id, placings)
        games = {level.get("game", "nlh") for level in tournament.structure.get("levels", [])}
        if len(games) > 1:
            await self.apply_result(MIXED_KIND, tournament_id, placings)
        return outcome

    def _check_result(self, kind: str, source_id: str,
                      placings: list[tuple[int, int]]) -> list[tuple[int, int]]:
        problems = []
        if kind not in RESULT_KINDS:
            problems.append({"loc": "kind", "msg": f"one of {', '.join(RESULT_KINDS)}"})
        if not isinstance(source_id, str) or not re.fullmatch(SOURCE_ID_PATTERN, source_id):
            problems.append({"loc": "source_id", "msg": "1-64 letters, digits or _ . : -"})
        pairs = []
        for entry in placings if isinstance(placings, (list, tuple)) else ():
            if (not isinstance(entry, (list, tuple)) or len(entry) != 2
                    or not all(type(v) is int and v >= 1 for v in entry)):
                problems.append({"loc": "placings", "msg": "each is (user_id >= 1, place >= 1)"})
                break
            pairs.append((entry[0], entry[1]))
        if not 2 <= len(pairs) <= self.max_placings:
            problems.append({"loc": "placings",
                             "msg": f"between 2 and {self.max_placings} rated players"})
        if len({user_id for user_id, _ in pairs}) != len(pairs):
            problems.append({"loc": "placings", "msg": "a user is placed twice"})
        if problems:
            raise ValidationFailed("the result cannot be rated", details=problems)
        return sorted(pairs, key=lambda pair: (pair[1], pair[0]))

    async def _already_applied(self, held: RatingResult, ordered: list[tuple[int, int]],
                               db: BaseDBAsyncClient | None = None) -> AppliedResult:
        if [tuple(p) for p in held.placings] != ordered:
            raise Conflict("this source was already rated with different placings",
                           code="result_mismatch")
        changes = await (RatingChange.filter(result_id=held.id).order_by("place", "user_id")
                         .using_db(db))
        return AppliedResult(held.kind, held.source_id, False, [
            {"user_id": c.user_id, **change_view(c)} for c in changes])

    async def _apply(self, kind: str, source_id: str, ordered: list[tuple[int, int]]) -> AppliedResult:
        now = datetime.now(UTC)
        async with self.bus.transaction() as tx:
            rows = await self._lock_ratings(tx.db, [user_id for user_id, _ in ordered])
            held = await RatingResult.get_or_none(kind=kind, source_id=source_id, using_db=tx.db)
            if held is not None:
                # Applied by a concurrent call that held the locks first. Inside the
                # transaction, so a Conflict also rolls back the rows created above.
                result = await self._already_applied(held, ordered, tx.db)
            else:
                held = await RatingResult.create(kind=kind, source_id=source_id,
                                                 placings=[list(p) for p in ordered],
                                                 applied_at=now, using_db=tx.db)
                changes = await self._move(tx, held, rows, ordered, now)
                result = AppliedResult(kind, source_id, True, changes)
        return result

    async def _lock_ratings(self, db: BaseDBAsyncClient, user_ids: list[int]) -> dict[int, Rating]:
        """Create missing rating rows, then lock all of them in user-id order (no deadlocks).

        On SQLite the whole transaction is already exclusive, and FOR UPDATE does not exist.
        """
        ids = sorted(user_ids)
        fresh = rating_math.newcomer()
        fresh_gr = rating_math.global_rating(fresh, fresh)
        await Rating.bulk_create(
            [Rating(user_id=uid, sr=fresh.mu, st=fresh.sigma, mr=fresh.mu, mt=fresh.sigma,
                    gr=fresh_gr) for uid in ids],
            ignore_conflicts=True, using_db=db)
        rows = await (Rating.filter(user_id__in=ids).order_by("user_id")
                      .select_for_update().using_db(db))
        return {row.user_id: row for row in rows}

    async def _move(self, tx: Publication, held: RatingResult, rows: dict[int, Rating],
                    ordered: list[tuple[int, int]], now: datetime) -> list[dict[str, Any]]:
        growth = self.idle_growth_per_day
        current = {}
        for user_id, _ in ordered:
            row = rows[user_id]
            idle = _idle_days(row.last_update, now)
            current[user_id] = (rating_math.after_idle(Skill(row.sr, row.st), idle, growth),
                                rating_math.after_idle(Skill(row.mr, row.mt), idle, growth))
        moved_index = 1 if held.kind == MIXED_KIND else 0
        before = [current[user_id][moved_index] for user_id, _ in ordered]
        places = [place for _, place in ordered]
        if len(ordered) >= _THREAD_FROM_PLAYERS:
            after = await asyncio.to_thread(rating_math.rate_placings, before, places)
        else:
            after = rating_math.rate_placings(before, places)

        changes = []
        for (user_id, place), moved in zip(ordered, after):
            row = rows[user_id]
            sr, mr = current[user_id]
            sr, mr = (sr, moved) if moved_index else (moved, mr)
            change = RatingChange(
                user_id=user_id, result_id=held.id, reason=held.kind, source_id=held.source_id,
                place=place, field_size=len(ordered),
                sr_before=row.sr, sr_after=sr.mu, st_before=row.st, st_after=sr.sigma,
                mr_before=row.mr, mr_after=mr.mu, mt_before=row.mt, mt_after=mr.sigma,
                gr_before=row.gr, gr_after=rating_math.global_rating(sr, mr))
            await change.save(using_db=tx.db)
            row.sr, row.st, row.mr, row.mt = sr.mu, sr.sigma, mr.mu, mr.sigma
            row.gr, row.version, row.last_update = change.gr_after, row.version + 1, now
            await row.save(using_db=tx.db,
                           update_fields=["sr", "st", "mr", "mt", "gr", "version", "last_update"])
            view = change_view(change)
            await tx.publish(_user_room(user_id), "rating:update", {
                "user_id": user_id, "change": view,
                "rating": _rating_view(user_id, row, now, self.idle_growth_per_day)})
            changes.append({"user_id": user_id, **view})
        return changes

    # -- reads ----------------------------------------------------------------------------------
    async def rating(self, user_id: int) -> dict[str, Any]:
        """A user's current ratings; a user with no rated result yet gets a newcomer's values."""
        if not await User.exists(id=user_id):
            raise NotFound("no such user")
        row = await Rating.get_or_none(user_id=user_id)
        return _rating_view(user_id, row, datetime.now(UTC), self.idle_growth_per_day)

    async def history(self, user_id: int, *, limit: int, before: int | None) -> dict[str, Any]:
        """The user's rating changes, newest first; `next_before` pages on (None at the end)."""
        if not await User.exists(id=user_id):
            raise NotFound("no such user")
        query = RatingChange.filter(user_id=user_id)
        if before is not None:
            query = query.filter(id__lt=before)
        rows = await query.order_by("-id").limit(limit + 1)
        items = [change_view(row) for row in rows[:limit]]
        return {"items": items, "next_before": items[-1]["id"] if len(rows) > limit else None}

    async def leaderboard(self, kind: str, *, limit: int, offset: int,
                          caller_id: int) -> dict[str, Any]:
        """Rated players by `kind` (sr, mr or gr), best first, ties by lower user id;
        `me` is the caller's own rank (None before their first rated result)."""
        if kind not in ("sr", "mr", "gr"):
            raise ValidationFailed("kind is one of sr, mr, gr")
        rows = await (Rating.all().select_related("user")
                      .order_by(f"-{kind}", "user_id").offset(offset).limit(limit))
        items = [{"rank": offset + i + 1, "user_id": row.user_id, "nickname": row.user.nickname,
                  "value": getattr(row, kind), "sr": row.sr, "st": row.st, "mr": row.mr,
                  "mt": row.mt, "gr": row.gr} for i, row in enumerate(rows)]
        mine = await Rating.get_or_none(user_id=caller_id)
        me = None
        if mine is not None:
            value = getattr(mine, kind)
            ahead = await Rating.filter(
                Q(**{f"{kind}__gt": value}) | Q(**{kind: value, "user_id__lt": caller_id})).count()
            me = {"rank": ahead + 1, "user_id": caller_id, "value": value}
        return {"kind": kind, "offset": offset, "limit": limit,
                "total": await Rating.all().count(), "items": items, "me": me}

    # -- client claims --------------------------------------------------------------------------
    async def check_claim(self, caller_id: int, claim: Claim) -> dict[str, Any]:
        """Answer a client's rating update with the server's own values. Writes nothing.

        The claim must be the caller's own and name a result the server holds in which the
        caller took part. Claimed numbers that differ from the stored change are reported
        as a disagreement (and logged); they are never written.
        """
        if claim.user_id is not None and claim.user_id != caller_id:
            raise Forbidden("a rating update may only concern your own rating")
        held = await RatingResult.get_or_none(kind=claim.reason, source_id=claim.source_id)
        if held is None:
            raise NotFound("the server holds no such result: ratings change only from "
                           "results the server has", code="result_not_found")
        change = await RatingChange.get_or_none(result_id=held.id, user_id=caller_id)
        if change is None:
            raise Forbidden("you did not take part in that result")
        stored = change_view(change)
        mismatches = [
            {"field": name, "claimed": claimed, "server": stored[name]}
            for name, claimed in sorted(claim.claimed.items())
            if abs(claimed - getattr(change, CLAIMABLE_FIELDS[name])) > CLAIM_TOLERANCE
        ]
        if mismatches:
            log.warning("user %s claimed a rating update that disagrees with %s %s: %s",
                        caller_id, claim.reason, claim.source_id, mismatches)
        status = "disagrees" if mismatches else ("agrees" if claim.claimed else "none")
        return {"claim": {"status": status, "mismatches": mismatches, "written": False},
                "change": stored, "rating": await self.rating(caller_id)}
