"""Hand, tournament and mixed-game histories: idempotent ingest and per-user listings.

Every record carries a client-generated id. Storing the same body again returns the stored
record; a different body under an id already stored is a conflict, and nothing of that call
is stored. A call with many records is one transaction: all stored or none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from tortoise.exceptions import IntegrityError

from models.history import HandHistory, MixedGameHistory, SyncedRow, TournamentHistory
from server import jsonutil
from server.errors import BadInput, Conflict, ValidationFailed, validation_details
from server.services.event_bus import EventBus
from server.services.sync_clock import next_tick
from server.services.sync_poke import SyncPoker

ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
GameName = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class HandIn(_Strict):
    hand_id: ClientId
    game_type: GameName
    tournament_id: ClientId | None = None
    record_json: dict[str, Any]


class TournamentIn(_Strict):
    tournament_id: ClientId
    result_json: dict[str, Any]
    rank: int | None = Field(None, ge=0, le=1_000_000)
    chips: int | None = Field(None, ge=0, le=2**62)


class MixedIn(_Strict):
    record_id: ClientId
    tournament_id: ClientId | None = None
    from_game: GameName | None = None
    to_game: GameName
    record_json: dict[str, Any]


@dataclass(frozen=True)
class HistoryKind:
    """One history module: its model, its client id field, its JSON field and its schema."""

    name: str
    model: type[SyncedRow]
    key: str
    json_field: str
    columns: tuple[str, ...]
    schema: type[_Strict]
    game_field: str | None


HAND = HistoryKind("hand", HandHistory, "hand_id", "record_json",
                   ("game_type", "tournament_id", "record_json"), HandIn, "game_type")
TOURNAMENT = HistoryKind("tournament", TournamentHistory, "tournament_id", "result_json",
                         ("result_json", "rank", "chips"), TournamentIn, None)
MIXED = HistoryKind("mixed", MixedGameHistory, "record_id", "record_json",
                    ("tournament_id", "from_game", "to_game", "record_json"), MixedIn, "to_game")
KINDS = {k.name: k for k in (HAND, TOURNAMENT, MIXED)}


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")  # query strings arrive as text: lax coercion
    game_type: GameName | None = None
    tournament_id: ClientId | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(50, ge=1, le=200)
    cursor: int | None = Field(None, ge=1)

    @field_validator("since", "until")
    @classmethod
    def _utc_when_naive(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def public_record(kind: HistoryKind, row: SyncedRow) -> dict[str, Any]:
    """The stable wire shape of one stored record (also what export writes)."""
    out = {kind.key: getattr(row, kind.key)}
    for column in kind.columns:
        out[column] = getattr(row, column)
    out["created_at"] = row.created_at  # type: ignore[attr-defined]
    out["last_modified"] = row.last_modified
    return out


class HistoryService:
    def __init__(self, bus: EventBus, poker: SyncPoker, *, record_max_bytes: int, batch_max: int):
        self._bus = bus
        self._poker = poker
        self.record_max_bytes = record_max_bytes
        self.batch_max = batch_max

    def validate(self, kind: HistoryKind, data: Any) -> _Strict:
        """Parse one record (raises ValidationFailed) and enforce the JSON size cap."""
        record = parse_model(kind.schema, data)
        size = len(jsonutil.dumps_bytes(getattr(record, kind.json_field)))
        if size > self.record_max_bytes:
            raise ValidationFailed(
                f"{kind.json_field} is {size} bytes, the limit is {self.record_max_bytes}",
                code="record_too_large")
        return record

    async def store(self, user_id: int, kind: HistoryKind,
                    records: list[_Strict]) -> list[dict[str, Any]]:
        """Store records idempotently, all or none; returns each stored record in order."""
        if not records:
            raise BadInput("no records to store")
        if len(records) > self.batch_max:
            raise ValidationFailed(f"at most {self.batch_max} records per call",
                                   code="batch_too_large")
        seen: dict[str, _Strict] = {}
        for record in records:
            key = getattr(record, kind.key)
            if key in seen and seen[key] != record:
                raise Conflict(f"{kind.key} {key} appears twice with different bodies")
            seen[key] = record
        try:
            return await self._store_once(user_id, kind, records, seen)
        except IntegrityError:
            # A concurrent call stored one of these ids first: answer against what it stored.
            return await self._store_once(user_id, kind, records, seen)

    async def _store_once(self, user_id: int, kind: HistoryKind, records: list[_Strict],
                          unique: dict[str, _Strict]) -> list[dict[str, Any]]:
        model = kind.model
        async with self._bus.transaction() as tx:
            existing = {
                getattr(row, kind.key): row
                for row in await model.filter(user_id=user_id, **{f"{kind.key}__in": list(unique)})
                .using_db(tx.db)
            }
            for key, row in existing.items():
                if row.deleted:
                    raise Conflict(f"{kind.key} {key} was deleted", code="deleted")
                if not _same_body(kind, row, unique[key]):
                    raise Conflict(f"{kind.key} {key} is already stored with a different body")
            fresh = [r for key, r in unique.items() if key not in existing]
            tick = None
            if fresh:
                tick = await next_tick(tx.db)
                created_at = datetime.now(UTC)
                rows = [model(user_id=user_id, last_modified=tick, server_created_at=tick,
                              created_at=created_at, **r.model_dump()) for r in fresh]
                await model.bulk_create(rows, using_db=tx.db)
                existing.update((getattr(row, kind.key), row) for row in rows)
        if tick is not None:
            self._poker.changed(user_id, tick)
        return [public_record(kind, existing[getattr(r, kind.key)]) for r in records]

    async def list(self, user_id: int, kind: HistoryKind, query: ListQuery) -> dict[str, Any]:
        """One page of the caller's records, newest first; `next_cursor` continues it."""
        if query.since and query.until and query.since > query.until:
            raise BadInput("since is after until")
        rows = kind.model.filter(user_id=user_id, deleted=False)
        if query.game_type is not None:
            if kind.game_field is None:
                raise BadInput(f"{kind.name} history has no game_type")
            rows = rows.filter(**{kind.game_field: query.game_type})
        if query.tournament_id is not None:
            rows = rows.filter(tournament_id=query.tournament_id)
        if query.since is not None:
            rows = rows.filter(created_at__gte=query.since)
        if query.until is not None:
            rows = rows.filter(created_at__lt=query.until)
        if query.cursor is not None:
            rows = rows.filter(id__lt=query.cursor)
        page = await rows.order_by("-id").limit(query.limit + 1)
        more = len(page) > query.limit
        page = page[: query.limit]
        return {"items": [public_record(kind, row) for row in page],
                "next_cursor": str(page[-1].id) if more else None}


def parse_model(schema: type[_Strict], data: Any) -> Any:
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(details=validation_details(exc)) from exc


def _same_body(kind: HistoryKind, row: SyncedRow, record: _Strict) -> bool:
    return all(getattr(row, column) == getattr(record, column) for column in kind.columns)


def batch_handlers(service: HistoryService, kind: HistoryKind) -> tuple[Any, Any]:
    """The `POST /batch` operation for one history kind (`data` is one record), and its
    run form that stores consecutive records in one transaction."""

    async def store_one(call: Any, data: Any) -> dict[str, Any]:
        return (await service.store(call.user_id, kind, [service.validate(kind, data)]))[0]

    async def store_run(calls: list[Any], data: list[Any]) -> list[dict[str, Any]]:
        records = [service.validate(kind, item) for item in data]
        return await service.store(calls[0].user_id, kind, records)

    return store_one, store_run
