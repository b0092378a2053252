"""The global sync clock: one monotonic counter every synced change is stamped with."""

from __future__ import annotations

import time

from tortoise.backends.base.client import BaseDBAsyncClient

# One statement: the upsert takes the clock row's lock until the transaction ends, so ticks
# commit in order and a reader that sees tick N has every change stamped <= N committed.
_TICK_SQL = (
    "INSERT INTO sync_clock (id, value) VALUES (1, {p}) ON CONFLICT (id) DO UPDATE SET value = "
    "CASE WHEN sync_clock.value + 1 > excluded.value THEN sync_clock.value + 1 "
    "ELSE excluded.value END RETURNING value"
)
_READ_SQL = "SELECT value FROM sync_clock WHERE id = 1"


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


async def next_tick(db: BaseDBAsyncClient) -> int:
    """Take the next clock value inside the caller's transaction.

    It is max(previous + 1, wall-clock milliseconds): never 0, unique, and still rising
    when the wall clock steps back.
    """
    placeholder = "$1" if db.capabilities.dialect == "postgres" else "?"
    rows = await db.execute_query_dict(_TICK_SQL.format(p=placeholder), [_wall_ms()])
    return int(rows[0]["value"])


async def current(db: BaseDBAsyncClient) -> int | None:
    """The last committed tick, or None before the first change ever."""
    rows = await db.execute_query_dict(_READ_SQL)
    return int(rows[0]["value"]) if rows else None
