"""`feltsync publish-model` and `feltsync export-rl`: the AI admin commands.

They run without the web server: the ORM and the model store are opened here, used, closed.
Notices of a publish are written to the family's room log, which connected clients read on
their next (re)connect or resume; live delivery needs a running server to publish them.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from server import jsonutil
from server.errors import AppError
from server.services.ai_models import AiModelService
from server.services.event_bus import EventBus
from server.services.rl_buffer import RlBufferService
from server.settings import Settings
from server.storage.blobs import S3BlobStore, open_blob_store
from server.storage.orm import shared_orm

FILE_CHUNK = 256 * 1024


@contextlib.asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[None]:
    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    await shared_orm.acquire(settings.database_url, migrate=settings.migrate_on_start)
    try:
        yield
    finally:
        await shared_orm.release()


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as source:
        while chunk := await asyncio.to_thread(source.read, FILE_CHUNK):
            yield chunk


async def publish_model(settings: Settings, path: Path, family: str, version: str,
                        model_type: str | None) -> int:
    if not path.is_file():
        print(f"feltsync: {path} is not a file", file=sys.stderr)
        return 2
    async with _database(settings), open_blob_store(settings) as store:
        if isinstance(store, S3BlobStore):
            await store.ensure_bucket()
        try:
            model = await AiModelService(settings, EventBus()).publish(
                store, family=family, version=version, model_type=model_type,
                chunks=_file_chunks(path), declared_length=path.stat().st_size)
        except AppError as err:
            print(f"feltsync: {err.code}: {err.message}", file=sys.stderr)
            return 1
    print(jsonutil.dumps(model), flush=True)
    return 0


async def export_rl(settings: Settings, out: IO[str], game: str | None,
                    model_version: str | None, after_id: int) -> int:
    count = 0
    async with _database(settings):
        async for line in RlBufferService(settings).export(
                game=game, model_version=model_version, after_id=after_id):
            out.write(line)
            out.write("\n")
            count += 1
    out.flush()
    print(f"exported {count} lines", file=sys.stderr, flush=True)
    return 0
