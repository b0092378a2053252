"""Which tables and columns a WatermelonDB client may sync, and how their values travel.

Only what is listed here is read or written: an unknown table or column is refused, ids must
be safe characters, and WatermelonDB's local bookkeeping (`_status`, `_changed`) is dropped
on push and never sent. JSON payload columns travel as text (WatermelonDB columns hold
strings, numbers and booleans) and are stored as JSON objects. A read-only column is pulled,
and accepted but ignored on push (WatermelonDB pushes whole records).

`settings` and `profile` are per-user tables: one record whose id is the user's id. A push
may update it (created or updated), never delete it, and any other id is refused. Profile
columns are checked by the same rules as a REST profile change, and must already be in the
form REST would store (trimmed nickname, upper-case country).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from pydantic import TypeAdapter
from pydantic import ValidationError as SchemaError

from models.accounts import User, UserSettings
from models.history import SyncedRow
from server import jsonutil
from server.errors import ValidationFailed
from server.services.accounts import profile_pushed, settings_pushed
from server.services.event_bus import Publication
from server.services.history import HAND, MIXED, TOURNAMENT, HistoryKind
from server.services.profile_schema import Avatar, Country, Nickname
from server.services.settings_schema import CARD_SKIN_PATTERN, THEMES

SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LOCAL_ONLY_COLUMNS = frozenset({"_status", "_changed"})


@dataclass(frozen=True)
class Column:
    name: str
    kind: Literal["text", "id", "int", "json", "bool", "choice", "schema"]
    nullable: bool = False
    max_len: int = 32
    pattern: str | None = None  # text: the whole value must match
    choices: tuple[str, ...] = ()  # choice: the allowed values
    read_only: bool = False
    schema: TypeAdapter[Any] | None = None  # schema: the value must pass it unchanged

    def to_db(self, table: str, value: Any, json_max_bytes: int) -> Any:
        where = f"{table}.{self.name}"
        if value is None:
            if self.nullable:
                return None
            raise ValidationFailed(f"{where} may not be null", code="invalid_value")
        if self.kind in ("text", "id"):
            if not isinstance(value, str) or len(value) > self.max_len or (
                    self.kind == "id" and not SAFE_ID.match(value)) or (
                    self.pattern is not None and not re.fullmatch(self.pattern, value)) or (
                    not value and not self.nullable):
                raise ValidationFailed(f"{where} must be a string of at most {self.max_len}"
                                       " safe characters", code="invalid_value")
            return value or None
        if self.kind == "schema":
            assert self.schema is not None
            if value == "" and self.nullable:
                return None
            try:
                canonical = self.schema.validate_python(value)
            except SchemaError as exc:
                reason = exc.errors()[0]["msg"]
                raise ValidationFailed(f"{where}: {reason}", code="invalid_value") from exc
            # A push is not echoed to its device, so a value the server would rewrite (trimmed,
            # upper-cased) is refused: the device would keep a different one.
            if canonical != value:
                raise ValidationFailed(f"{where} must be sent as {canonical!r}",
                                       code="invalid_value")
            return canonical
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ValidationFailed(f"{where} must be true or false", code="invalid_value")
            return value
        if self.kind == "choice":
            if value not in self.choices:
                raise ValidationFailed(f"{where} must be one of {', '.join(self.choices)}",
                                       code="invalid_value")
            return value
        if self.kind == "int":
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
                raise ValidationFailed(f"{where} must be a non-negative integer",
                                       code="invalid_value")
            return value
        if not isinstance(value, str) or len(value.encode()) > json_max_bytes:
            raise ValidationFailed(f"{where} must be JSON text of at most {json_max_bytes} bytes",
                                   code="invalid_value")
        try:
            decoded = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise ValidationFailed(f"{where} is not valid JSON", code="invalid_value") from exc
        if not isinstance(decoded, dict):
            raise ValidationFailed(f"{where} must hold a JSON object", code="invalid_value")
        return decoded

    def to_wire(self, value: Any) -> Any:
        if self.kind == "json":
            return jsonutil.dumps(value)
        return value


# Runs inside a push's transaction after it changed the user's rows of a table.
ChangeHook = Callable[[Publication, int, str], Awaitable[None]]


@dataclass(frozen=True)
class SyncTable:
    name: str
    model: type[SyncedRow]
    key: str  # the model field that holds the record id
    columns: dict[str, Column]
    per_user: bool = False  # one record per user, its id the user id
    on_change: ChangeHook | None = None
    owner: str = "user_id"  # the model field that holds the owning user's id
    # per_user: make the record when the user has none yet (a users row always exists).
    create_missing: bool = True

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns.values() if not c.nullable and not c.read_only]

    def record_id(self, row: dict[str, Any]) -> str:
        return str(row[self.key])

    def row_to_wire(self, row: dict[str, Any]) -> dict[str, Any]:
        out = {"id": self.record_id(row)}
        for column in self.columns.values():
            out[column.name] = column.to_wire(row[column.name])
        return out

    def check_owner(self, user_id: int, changes: TableChanges) -> None:
        """A per-user table: only the caller's own record, and it is never deleted."""
        if not self.per_user:
            return
        if changes.deleted:
            raise ValidationFailed(f"{self.name} cannot be deleted", code="not_deletable")
        if any(record_id != str(user_id) for record_id in changes.ids):
            raise ValidationFailed(f"{self.name} has one record, id {user_id}",
                                   code="unknown_record")


def _checked(name: str, schema: Any, nullable: bool = False) -> Column:
    return Column(name, "schema", nullable, schema=TypeAdapter(schema))


def _history(name: str, kind: HistoryKind, *columns: Column) -> SyncTable:
    return SyncTable(name, kind.model, kind.key, {c.name: c for c in columns})


SYNC_TABLES: dict[str, SyncTable] = {t.name: t for t in (
    _history("hands", HAND, Column("game_type", "text"), Column("tournament_id", "id", True, 64),
             Column("record_json", "json")),
    _history("tournament_results", TOURNAMENT, Column("result_json", "json"),
             Column("rank", "int", True), Column("chips", "int", True)),
    _history("mixed_games", MIXED, Column("tournament_id", "id", True, 64),
             Column("from_game", "text", True), Column("to_game", "text"),
             Column("record_json", "json")),
    SyncTable("settings", UserSettings, "user_id", {c.name: c for c in (
        Column("se_on", "bool"), Column("bgm_on", "bool"),
        Column("theme", "choice", choices=THEMES),
        Column("card_skin", "text", pattern=CARD_SKIN_PATTERN),
        Column("version", "int", read_only=True),
    )}, per_user=True, on_change=settings_pushed),
    SyncTable("profile", User, "id", {c.name: c for c in (
        _checked("nickname", Nickname), _checked("avatar", Avatar, nullable=True),
        _checked("country", Country, nullable=True), Column("version", "int", read_only=True),
    )}, per_user=True, on_change=profile_pushed, owner="id", create_missing=False),
)}


@dataclass
class TableChanges:
    """One table's validated push: records as {id, column values for the database}."""

    table: SyncTable
    created: list[tuple[str, dict[str, Any]]]
    updated: list[tuple[str, dict[str, Any]]]
    deleted: list[str]

    @property
    def ids(self) -> list[str]:
        return [i for i, _ in self.created] + [i for i, _ in self.updated] + self.deleted


def parse_push(changes: Any, *, json_max_bytes: int, max_records: int) -> list[TableChanges]:
    """Validate a WatermelonDB push body completely before anything is written."""
    if not isinstance(changes, dict):
        raise ValidationFailed("changes must be an object of tables", code="invalid_changes")
    parsed: list[TableChanges] = []
    total = 0
    for table_name, buckets in changes.items():
        table = SYNC_TABLES.get(table_name)
        if table is None:
            raise ValidationFailed(f"unknown table {str(table_name)[:64]!r}", code="unknown_table")
        if not isinstance(buckets, dict) or set(buckets) - {"created", "updated", "deleted"}:
            raise ValidationFailed(f"{table_name} must be {{created, updated, deleted}}",
                                   code="invalid_changes")
        created = [_record(table, r, json_max_bytes) for r in _list(buckets, "created", table_name)]
        updated = [_record(table, r, json_max_bytes) for r in _list(buckets, "updated", table_name)]
        deleted = _list(buckets, "deleted", table_name)
        for record_id in deleted:
            _check_id(table_name, record_id)
        result = TableChanges(table, created, updated, deleted)
        ids = result.ids
        if len(set(ids)) != len(ids):
            raise ValidationFailed(f"{table_name}: an id appears more than once across created,"
                                   " updated and deleted", code="duplicate_id")
        total += len(ids)
        if total > max_records:
            raise ValidationFailed(f"at most {max_records} records per push", code="push_too_large")
        parsed.append(result)
    return parsed


def _list(buckets: dict[str, Any], name: str, table: str) -> list[Any]:
    value = buckets.get(name, [])
    if not isinstance(value, list):
        raise ValidationFailed(f"{table}.{name} must be a list", code="invalid_changes")
    return value


def _check_id(table: str, record_id: Any) -> str:
    if not isinstance(record_id, str) or not SAFE_ID.match(record_id):
        raise ValidationFailed(f"{table}: ids must be 1-64 characters of A-Z a-z 0-9 _ -",
                               code="unsafe_id")
    return record_id


def _record(table: SyncTable, raw: Any, json_max_bytes: int) -> tuple[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise ValidationFailed(f"{table.name}: each record must be an object",
                               code="invalid_changes")
    record_id = _check_id(table.name, raw.get("id"))
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name == "id" or name in LOCAL_ONLY_COLUMNS:
            continue
        column = table.columns.get(name)
        if column is None:
            raise ValidationFailed(f"unknown column {table.name}.{str(name)[:64]}",
                                   code="unknown_column")
        if not column.read_only:
            values[name] = column.to_db(table.name, value, json_max_bytes)
    return record_id, values
