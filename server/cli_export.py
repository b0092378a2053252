"""`feltsync export`: a user's or everyone's histories as JSON Lines, streamed."""

from __future__ import annotations

import sys
from typing import IO

from server.services.export import export_lines
from server.services.history import KINDS
from server.settings import Settings
from server.storage.orm import shared_orm


async def export_histories(settings: Settings, out: IO[str], user_id: int | None,
                           kinds: list[str] | None) -> int:
    count = 0
    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    await shared_orm.acquire(settings.database_url, migrate=settings.migrate_on_start)
    try:
        async for line in export_lines(user_id, kinds or list(KINDS)):
            out.write(line)
            out.write("\n")
            count += 1
    finally:
        await shared_orm.release()
    out.flush()
    print(f"exported {count} records", file=sys.stderr, flush=True)
    return 0
