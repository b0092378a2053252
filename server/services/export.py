"""Histories as JSON Lines for training and analytics, streamed page by page.

Every line has the same fields whatever the kind, so a reader needs no per-kind schema:
kind, user_id, id (the client id), game_type, from_game, to_game, tournament_id, rank, chips,
record (the stored JSON object), created_at, last_modified. Fields a kind lacks are null.
Deleted records (sync tombstones) are not history and are left out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from server import jsonutil
from server.services.history import HAND, KINDS, MIXED, TOURNAMENT, HistoryKind

EXPORT_FIELDS = ("kind", "user_id", "id", "game_type", "from_game", "to_game", "tournament_id",
                 "rank", "chips", "record", "created_at", "last_modified")
PAGE_ROWS = 2000


def _line(kind: HistoryKind, row: dict[str, Any]) -> dict[str, Any]:
    line = dict.fromkeys(EXPORT_FIELDS)
    line.update(kind=kind.name, user_id=row["user_id"], id=row[kind.key],
                tournament_id=row["tournament_id"], record=row[kind.json_field],
                created_at=row["created_at"], last_modified=row["last_modified"])
    if kind is HAND:
        line["game_type"] = row["game_type"]
    elif kind is MIXED:
        line.update(game_type=row["to_game"], from_game=row["from_game"], to_game=row["to_game"])
    elif kind is TOURNAMENT:
        line.update(rank=row["rank"], chips=row["chips"])
    return line


async def export_lines(user_id: int | None = None,
                       kinds: Iterable[str] = tuple(KINDS)) -> AsyncIterator[str]:
    """One JSON text per stored record (no newline), oldest first per kind."""
    for name in kinds:
        kind = KINDS[name]
        fields = ["id", "user_id", kind.key, "tournament_id", "created_at", "last_modified",
                  *kind.columns]
        after = 0
        while True:
            rows = kind.model.filter(id__gt=after, deleted=False)
            if user_id is not None:
                rows = rows.filter(user_id=user_id)
            page = await rows.order_by("id").limit(PAGE_ROWS).values(*dict.fromkeys(fields))
            for row in page:
                yield jsonutil.dumps(_line(kind, row))
            if len(page) < PAGE_ROWS:
                break
            after = page[-1]["id"]
