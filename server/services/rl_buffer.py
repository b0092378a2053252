"""The P2P learning buffer (Spec 21 §4.6): experience lines uploaded as JSON Lines.

An upload is consumed as a stream of byte chunks and split into lines with a bounded buffer,
so memory stays flat whatever the body size. Each line is checked on its own; valid lines are
stored in batches, invalid ones are counted and the first few reported by line number.

The offline queue sends lines too (batch op `rl_lines`, `data` a list of line objects): the
same checks, but all or nothing, since a queued item is answered as one, and stored once per
client id however often it is resent.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator
from tortoise.functions import Count, Max, Sum
from tortoise.transactions import in_transaction

from models.ai import RlBuffer
from server.errors import PayloadTooLarge, ValidationFailed
from server.services.applied_ops import apply_once
from server.services.batch import BatchCall
from server.services.event_bus import EventBus, Publication
from server.settings import Settings

BATCH_ROWS = 1000
# Lines are inserted with one executemany per batch: building an ORM object per line cost
# more than the validation and the insert together.
_INSERT_COLUMNS = ("user_id", "game", "model_version", "data_jsonl", "size_bytes", "upload_id",
                   "created_at")
MAX_REPORTED_ERRORS = 20
EXPORT_PAGE = 2000


class RlLine(BaseModel):
    """One experience line. Required: game, model_version, state, action, reward."""

    model_config = ConfigDict(extra="forbid", strict=False)

    game: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    model_version: str = Field(min_length=1, max_length=64)
    state: dict[str, JsonValue] | list[JsonValue]
    action: JsonValue
    reward: float
    next_state: dict[str, JsonValue] | list[JsonValue] | None = None
    done: bool | None = None
    hand_id: str | None = Field(default=None, max_length=64)
    step: int | None = Field(default=None, ge=0)
    policy: list[float] | None = Field(default=None, max_length=4096)
    ts: float | None = None
    info: dict[str, JsonValue] | None = None

    @field_validator("reward")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("reward must be a finite number")
        return value


@dataclass
class UploadReport:
    accepted: int = 0
    rejected: int = 0
    bytes: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    upload_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def reject(self, line: int, error: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"line": line, "error": error})

    def as_dict(self) -> dict[str, Any]:
        return {"upload_id": self.upload_id, "accepted": self.accepted, "rejected": self.rejected,
                "bytes": self.bytes, "errors": self.errors,
                "errors_truncated": self.rejected > len(self.errors)}


async def split_lines(chunks: AsyncIterable[bytes], max_line: int
                      ) -> AsyncIterator[tuple[int, bytes | None]]:
    """(line number, line) pairs; the line is None when it is longer than `max_line` bytes.

    An overlong line is skipped to its end without being kept, so it costs no memory.
    """
    pending = bytearray()
    number = 0
    overlong = False
    async for chunk in chunks:
        start = 0
        while True:
            newline = chunk.find(b"\n", start)
            piece = chunk[start:] if newline < 0 else chunk[start:newline]
            if not overlong:
                pending += piece
                if len(pending) > max_line:
                    overlong = True
                    pending.clear()
            if newline < 0:
                break
            number += 1
            yield number, None if overlong else bytes(pending)
            pending.clear()
            overlong = False
            start = newline + 1
    if pending or overlong:
        yield number + 1, None if overlong else bytes(pending)


def _first_error(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "line"
    return f"{loc}: {first.get('msg', 'invalid')}"


class RlBufferService:
    def __init__(self, settings: Settings, bus: EventBus | None = None):
        self.settings = settings
        # Only the batch op needs one; the export command builds the service without.
        self._bus = bus if bus is not None else EventBus()

    async def upload(self, user_id: int, chunks: AsyncIterable[bytes],
                     declared_length: int | None = None) -> dict[str, Any]:
        """Store the valid lines of one JSONL upload; report counts and the first errors.

        An upload over the byte cap is refused whole: whatever it stored so far is removed.
        """
        cap = self.settings.rl_upload_max_bytes
        if declared_length is not None and declared_length > cap:
            raise PayloadTooLarge(f"the upload is over the {cap}-byte limit")
        report = UploadReport()
        batch: list[tuple[Any, ...]] = []
        try:
            async for number, raw in split_lines(self._capped(chunks, cap),
                                                 self.settings.rl_line_max_bytes):
                self._take_line(user_id, number, raw, report, batch)
                if len(batch) >= BATCH_ROWS:
                    await self._flush(batch)
            await self._flush(batch)
        except PayloadTooLarge:
            await RlBuffer.filter(upload_id=report.upload_id).delete()
            raise
        return report.as_dict()

    @staticmethod
    async def _capped(chunks: AsyncIterable[bytes], cap: int) -> AsyncIterator[bytes]:
        total = 0
        async for chunk in chunks:
            total += len(chunk)
            if total > cap:
                raise PayloadTooLarge(f"the upload is over the {cap}-byte limit")
            yield chunk

    def _take_line(self, user_id: int, number: int, raw: bytes | None, report: UploadReport,
                   batch: list[tuple[Any, ...]]) -> None:
        if raw is None:
            report.reject(number, f"line is longer than {self.settings.rl_line_max_bytes} bytes")
            return
        text = raw.strip()
        if not text:
            return  # blank lines (and a trailing newline) are not records
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            report.reject(number, "not valid JSON")
            return
        self._take_object(user_id, number, data, text, report, batch)

    def _take_object(self, user_id: int, number: int, data: Any, text: bytes,
                     report: UploadReport, batch: list[tuple[Any, ...]]) -> None:
        if not isinstance(data, dict):
            report.reject(number, "a line must be a JSON object")
            return
        try:
            line = RlLine.model_validate(data)
        except ValidationError as exc:
            report.reject(number, _first_error(exc))
            return
        batch.append((user_id, line.game, line.model_version, text.decode(), len(text),
                      report.upload_id))
        report.accepted += 1
        report.bytes += len(text)

    async def store_queued(self, call: BatchCall, data: Any) -> dict[str, Any]:
        """The batch op `rl_lines`: every line valid and stored, or none (a per-item error
        naming the first bad lines). A resend of the same client id stores nothing again."""
        report, batch = self._check_queued(call.user_id, data)

        async def apply(tx: Publication) -> dict[str, Any]:
            await _insert(tx.db, batch)
            return report.as_dict()

        answer, _ = await apply_once(self._bus, call, "rl_lines", apply)
        return answer  # type: ignore[no-any-return]

    def _check_queued(self, user_id: int, data: Any
                      ) -> tuple[UploadReport, list[tuple[Any, ...]]]:
        if not isinstance(data, list) or not data:
            raise ValidationFailed("rl_lines data must be a non-empty list of line objects")
        report = UploadReport()
        batch: list[tuple[Any, ...]] = []
        line_cap = self.settings.rl_line_max_bytes
        for number, item in enumerate(data, start=1):
            try:
                text = orjson.dumps(item)
            except orjson.JSONEncodeError:
                report.reject(number, "not valid JSON")
                continue
            if len(text) > line_cap:
                report.reject(number, f"line is longer than {line_cap} bytes")
                continue
            self._take_object(user_id, number, item, text, report, batch)
        if report.rejected:
            first = report.errors[0]
            raise ValidationFailed(
                f"{report.rejected} of {len(data)} lines are invalid (line {first['line']}: "
                f"{first['error']}); nothing was stored", code="invalid_lines",
                details=report.errors)
        if report.bytes > self.settings.rl_upload_max_bytes:
            raise PayloadTooLarge(f"the lines are over the {self.settings.rl_upload_max_bytes}"
                                  "-byte upload limit")
        return report, batch

    @staticmethod
    async def _flush(batch: list[tuple[Any, ...]]) -> None:
        if not batch:
            return
        async with in_transaction() as db:
            await _insert(db, batch)
        batch.clear()

    async def stats(self, user_id: int | None) -> dict[str, Any]:
        """Lines, bytes and last upload per game and model version: one user's, or everyone's."""
        query = RlBuffer.all() if user_id is None else RlBuffer.filter(user_id=user_id)
        groups = await (query.group_by("game", "model_version")
                        .annotate(lines=Count("id"), total_bytes=Sum("size_bytes"),
                                  last_upload=Max("created_at"))
                        .values("game", "model_version", "lines", "total_bytes", "last_upload"))
        by_game = [{"game": g["game"], "model_version": g["model_version"],
                    "lines": int(g["lines"]), "bytes": int(g["total_bytes"] or 0),
                    "last_upload_at": _as_datetime(g["last_upload"])}
                   for g in sorted(groups, key=lambda g: (g["game"], g["model_version"]))]
        last = max((g["last_upload_at"] for g in by_game if g["last_upload_at"]), default=None)
        summary: dict[str, Any] = {
            "lines": sum(g["lines"] for g in by_game),
            "bytes": sum(g["bytes"] for g in by_game),
            "last_upload_at": last,
            "by_game_version": by_game,
        }
        if user_id is None:
            rows = await RlBuffer.all().annotate(users=Count("user_id", distinct=True)).values("users")
            summary["users"] = int(rows[0]["users"]) if rows else 0
        return summary

    async def export(self, *, game: str | None = None, model_version: str | None = None,
                     after_id: int = 0) -> AsyncIterator[str]:
        """Every stored line in upload order, page by page (keyset, so memory stays flat)."""
        last_id = after_id
        while True:
            query = RlBuffer.filter(id__gt=last_id)
            if game:
                query = query.filter(game=game)
            if model_version:
                query = query.filter(model_version=model_version)
            page = await query.order_by("id").limit(EXPORT_PAGE).values_list("id", "data_jsonl")
            if not page:
                return
            for row_id, text in page:
                yield text
            last_id = page[-1][0]


async def _insert(db: Any, batch: list[tuple[Any, ...]]) -> None:
    if not batch:
        return
    now = datetime.now(UTC)
    if db.capabilities.dialect == "postgres":
        marks = ", ".join(f"${i}" for i in range(1, len(_INSERT_COLUMNS) + 1))
    else:
        marks = ", ".join("?" * len(_INSERT_COLUMNS))
    await db.execute_many(
        f"INSERT INTO rl_buffer ({', '.join(_INSERT_COLUMNS)}) VALUES ({marks})",
        [[*row, now] for row in batch])


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
