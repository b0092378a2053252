"""The model registry (Spec 21 §4.5, §7): publish, serve by signed URL, roll back, notify.

A family (`pro`, `badugi`, `multihead`) serves one current version (`pro_v3`). Publishing an
ONNX file validates it out of process, stores it under a key of its own, records it and moves
the family's pointer; rollback moves the pointer back. Both publish `model:update` to the
family's room in the same transaction, so connected clients of that family hear of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError

from models.accounts import User
from models.ai import AiModel, AiModelFamily
from models.realtime import RoomSeq
from server.errors import BadInput, Conflict, Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from server.services.event_bus import EventBus
from server.settings import Settings
from server.storage.onnx_check import inspect_onnx_file

if TYPE_CHECKING:
    from server.storage.blobs import BlobStore

FAMILY_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,31}$")
# A version names its family: `pro_v3`, `badugi_v5`, `multihead_v2`.
VERSION_PATTERN = re.compile(r"^([a-z][a-z0-9]{0,31})_[A-Za-z0-9][A-Za-z0-9.-]{0,30}$")
MODEL_TYPES = ("per_game", "multi_head", "pro")
_DEFAULT_TYPES = {"pro": "pro", "multihead": "multi_head"}
MODEL_UPDATE_EVENT = "model:update"
ONNX_CONTENT_TYPE = "application/octet-stream"


def models_room(family: str) -> str:
    return f"models_{family}"


def family_of(version: str) -> str | None:
    match = VERSION_PATTERN.match(version)
    return match.group(1) if match else None


@dataclass(frozen=True)
class SpooledFile:
    path: Path
    size: int
    sha256: str


class AiModelService:
    def __init__(self, settings: Settings, bus: EventBus):
        self.settings = settings
        self.bus = bus

    # ---- admin ---------------------------------------------------------------------------

    async def ensure_admin(self, user_id: int) -> None:
        if not await User.filter(id=user_id, is_admin=True).exists():
            raise Forbidden("only an administrator may do this")

    @contextlib.asynccontextmanager
    async def spool(self, chunks: AsyncIterable[bytes],
                    declared_length: int | None = None) -> AsyncIterator[SpooledFile]:
        """Write an upload to a temporary file (hashing as it goes), never over the cap."""
        cap = self.settings.model_max_bytes
        if declared_length is not None and declared_length > cap:
            raise PayloadTooLarge(f"the model file is over the {cap}-byte limit")
        fd, name = tempfile.mkstemp(prefix="model-upload-", suffix=".onnx")
        path = Path(name)
        try:
            digest, size = hashlib.sha256(), 0
            with os.fdopen(fd, "wb") as sink:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > cap:
                        raise PayloadTooLarge(f"the model file is over the {cap}-byte limit")
                    digest.update(chunk)
                    await asyncio.to_thread(sink.write, chunk)
            if size == 0:
                raise ValidationFailed("the model file is empty", code="invalid_model")
            yield SpooledFile(path, size, digest.hexdigest())
        finally:
            path.unlink(missing_ok=True)

    async def publish(self, store: BlobStore, *, family: str, version: str,
                      model_type: str | None, chunks: AsyncIterable[bytes],
                      declared_length: int | None = None,
                      published_by: int | None = None) -> dict[str, Any]:
        """Validate, store and record one ONNX file, make it the family's current version,
        and notify the family. Nothing is stored when any step refuses the file."""
        model_type = self._check_names(family, version, model_type)
        if await AiModel.filter(version=version).exists():
            raise Conflict(f"version {version} is already published")
        async with self.spool(chunks, declared_length) as upload:
            signature = await inspect_onnx_file(
                upload.path, timeout=self.settings.model_check_timeout,
                memory_bytes=self.settings.model_check_memory_bytes)
            key = f"models/{family}/{version}-{uuid.uuid4().hex[:12]}.onnx"
            await store.put_file(key, upload.path, ONNX_CONTENT_TYPE)
            try:
                model = await self._record(family, version, model_type, key, upload, signature,
                                           published_by)
            except BaseException:
                await store.delete(key)
                raise
        return self.metadata(model)

    async def _record(self, family: str, version: str, model_type: str, key: str,
                      upload: SpooledFile, signature: dict[str, Any],
                      published_by: int | None) -> AiModel:
        try:
            async with self.bus.transaction() as tx:
                model = await AiModel.create(
                    version=version, family=family, type=model_type, file_path=key,
                    sha256=upload.sha256, size=upload.size, io_signature=signature,
                    published_by=published_by, using_db=tx.db)
                pointer = await (AiModelFamily.filter(family=family).using_db(tx.db)
                                 .select_for_update().first())
                if pointer is None:
                    await AiModelFamily.create(family=family, type=model_type, current=model,
                                               using_db=tx.db)
                elif pointer.type != model_type:
                    raise Conflict(f"family {family} holds {pointer.type} models, not {model_type}")
                else:
                    pointer.current = model
                    await pointer.save(using_db=tx.db, update_fields=["current_id", "updated_at"])
                await tx.publish(models_room(family), MODEL_UPDATE_EVENT,
                                 self._notice(model, "publish"))
        except IntegrityError as exc:
            raise Conflict(f"version {version} is already published") from exc
        return model

    async def rollback(self, family: str, version: str) -> dict[str, Any]:
        """Point `family` at an already published `version`; `latest` answers with it at once."""
        self._check_names(family, version, None)
        async with self.bus.transaction() as tx:
            pointer = await (AiModelFamily.filter(family=family).using_db(tx.db)
                             .select_for_update().first())
            if pointer is None:
                raise NotFound(f"no model family {family}")
            model = await AiModel.filter(version=version, family=family).using_db(tx.db).first()
            if model is None:
                raise NotFound(f"version {version} was never published in family {family}")
            if pointer.current_id == model.id:  # type: ignore[attr-defined]
                raise Conflict(f"{family} already serves {version}")
            pointer.current = model
            await pointer.save(using_db=tx.db, update_fields=["current_id", "updated_at"])
            await tx.publish(models_room(family), MODEL_UPDATE_EVENT, self._notice(model, "rollback"))
        return self.metadata(model)

    def _check_names(self, family: str, version: str, model_type: str | None) -> str:
        if not FAMILY_PATTERN.match(family):
            raise ValidationFailed("family must be lowercase letters and digits, up to 32",
                                   details=[{"loc": "family", "msg": "invalid family"}])
        if family_of(version) != family:
            raise ValidationFailed(f"version must look like {family}_v3 (its family, '_', a tag)",
                                   details=[{"loc": "version", "msg": "invalid version"}])
        chosen = model_type or _DEFAULT_TYPES.get(family, "per_game")
        if chosen not in MODEL_TYPES:
            raise ValidationFailed(f"type must be one of {', '.join(MODEL_TYPES)}",
                                   details=[{"loc": "type", "msg": "invalid type"}])
        return chosen

    # ---- reading -------------------------------------------------------------------------

    async def may_join_room(self, user_id: int, family: str) -> bool:
        """Any signed-in user may hear about any family's models (`models_<family>` rooms)."""
        return bool(FAMILY_PATTERN.match(family))

    async def latest(self, family: str) -> AiModel:
        pointer = await AiModelFamily.filter(family=family).select_related("current").first()
        if pointer is None:
            raise NotFound(f"no model published for family {family}")
        return pointer.current

    async def by_version(self, version: str) -> AiModel:
        model = await AiModel.filter(version=version).first()
        if model is None:
            raise NotFound(f"no model version {version}")
        return model

    def metadata(self, model: AiModel) -> dict[str, Any]:
        return {
            "version": model.version, "family": model.family, "type": model.type,
            "sha256": model.sha256, "size": model.size,
            "inputs": model.io_signature.get("inputs", []),
            "outputs": model.io_signature.get("outputs", []),
            "opsets": model.io_signature.get("opsets", {}),
            "created_at": model.created_at,
        }

    async def with_download_url(self, store: BlobStore, model: AiModel) -> dict[str, Any]:
        """Metadata plus a short-lived signed URL (S3 presigned, or app-served HMAC for local)."""
        ttl = self.settings.download_url_ttl
        expires_at = int(time.time()) + ttl
        url = await store.presign_get(model.file_path, ttl)
        return {**self.metadata(model), "url": url, "expires_at": expires_at}

    async def current_versions(self, families: list[str]) -> dict[str, AiModel]:
        pointers = await AiModelFamily.filter(family__in=families).select_related("current")
        return {p.family: p.current for p in pointers}

    async def check(self, declared: dict[str, str]) -> list[dict[str, Any]]:
        """For each family the client holds: is its version the one the family serves?"""
        current = await self.current_versions(list(declared))
        answers = []
        for family, held in declared.items():
            model = current.get(family)
            answers.append({
                "family": family, "held_version": held,
                "version": model.version if model else None,
                "model_update_required": model is not None and model.version != held,
                **({"sha256": model.sha256, "size": model.size} if model else {"known": False}),
            })
        return answers

    async def updates_for(self, declared: dict[str, str]) -> list[dict[str, Any]]:
        """The `model:update` notices (in room-event wire shape, with the family room's
        current seq) a client holding `declared` should get right now."""
        current = await self.current_versions(list(declared))
        stale = [model for family, model in current.items() if model.version != declared[family]]
        if not stale:
            return []
        rooms = [models_room(model.family) for model in stale]
        heads = dict(await RoomSeq.filter(room__in=rooms).values_list("room", "last_seq"))
        return [{"room": room, "seq": int(heads.get(room, 0)), "data": self._notice(model, "connect")}
                for room, model in zip(rooms, stale)]

    def _notice(self, model: AiModel, reason: str) -> dict[str, Any]:
        return {"family": model.family, "version": model.version, "type": model.type,
                "sha256": model.sha256, "size": model.size, "model_update_required": True,
                "reason": reason}


def parse_declared_models(raw: Any, *, max_families: int = 16) -> dict[str, str]:
    """A client's `{family: version}` declaration, checked; BadInput when malformed."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > max_families:
        raise BadInput(f"models must be an object of at most {max_families} family: version pairs")
    declared = {}
    for family, version in raw.items():
        if not isinstance(family, str) or not FAMILY_PATTERN.match(family):
            raise BadInput("models: each key must be a model family such as 'pro'")
        if not isinstance(version, str) or len(version) > 64:
            raise BadInput(f"models.{family} must be a version string such as '{family}_v3'")
        declared[family] = version
    return declared
