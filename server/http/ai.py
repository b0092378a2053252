"""AI routes (Spec 21 §4.5, §4.6): model metadata and signed downloads, admin publish and
rollback, the update check, and the JSONL learning buffer.

Model files and JSONL uploads are larger than MAX_BODY_BYTES by design, so these two routes
read `request.content` as a stream with caps of their own; nothing here reads a body whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import BodyPartReader, web
from pydantic import BaseModel, ConfigDict, Field

from server import keys
from server.errors import BadInput, Forbidden, NotFound, UnsupportedMediaType
from server.http.auth_context import bearer_claims
from server.http.contract import responds
from server.http.envelope import respond
from server.http.inputs import parse, read_body, read_query
from server.http.schemas import AiModelMetaOut, AiModelOut
from server.services.ai_models import parse_declared_models
from server.storage.blobs import LocalBlobStore

routes = web.RouteTableDef()

STREAM_CHUNK = 64 * 1024
JSONL_TYPES = {"application/x-ndjson", "application/jsonl", "application/json-lines",
               "application/x-jsonlines", "text/plain"}
FORM_FIELD_MAX = 256


class FamilyQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    family: str = Field(min_length=1, max_length=32)


class VersionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    download: bool = False


class PublishParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    family: str = Field(min_length=1, max_length=32)
    version: str = Field(min_length=1, max_length=64)
    type: str | None = Field(None, max_length=16)


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    family: str = Field(min_length=1, max_length=32)
    version: str = Field(min_length=1, max_length=64)


def _absolute(request: web.Request, url: str) -> str:
    # The local store signs app-relative URLs; S3 presigned URLs are already absolute.
    return str(request.url.origin()) + url if url.startswith("/") else url


async def _described(request: web.Request, model: Any) -> dict[str, Any]:
    data = await request.app[keys.SERVICES].ai_models.with_download_url(
        request.app[keys.BLOBS], model)
    data["url"] = _absolute(request, data["url"])
    return data


@routes.get("/ai/model/latest")
@responds(AiModelOut)
async def latest(request: web.Request) -> web.Response:
    bearer_claims(request)
    query = read_query(request, FamilyQuery)
    model = await request.app[keys.SERVICES].ai_models.latest(query.family)
    return respond(await _described(request, model))


@routes.get("/ai/model/check")
async def check(request: web.Request) -> web.Response:
    """`?pro=pro_v3&badugi=badugi_v5`: which of the held versions are out of date."""
    bearer_claims(request)
    if not request.query:
        raise BadInput("name the models you hold: ?pro=pro_v3&badugi=badugi_v5")
    if len(request.query) != len(set(request.query)):
        raise BadInput("name each family once")
    declared = parse_declared_models(dict(request.query))
    return respond({"models": await request.app[keys.SERVICES].ai_models.check(declared)})


@routes.post("/ai/model/publish")
@responds(AiModelMetaOut, status=201)
async def publish(request: web.Request) -> web.Response:
    """Admin only. The ONNX file as the raw body (`?family=&version=&type=`), or multipart
    with fields family, version, type before the `file` part."""
    claims = bearer_claims(request)
    services = request.app[keys.SERVICES]
    await services.ai_models.ensure_admin(claims.user_id)
    if request.content_type.startswith("multipart/"):
        params, chunks = await _multipart_upload(request)
        length = None
    else:
        if request.content_type not in ("application/octet-stream", "application/onnx"):
            raise UnsupportedMediaType("send the model as application/octet-stream "
                                       "or multipart/form-data")
        params = read_query(request, PublishParams)
        chunks, length = request.content.iter_chunked(STREAM_CHUNK), request.content_length
    model = await services.ai_models.publish(
        request.app[keys.BLOBS], family=params.family, version=params.version,
        model_type=params.type, chunks=chunks, declared_length=length,
        published_by=claims.user_id)
    return respond(model, status=201)


async def _multipart_upload(request: web.Request) -> tuple[PublishParams, AsyncIterator[bytes]]:
    reader = await request.multipart()
    fields: dict[str, str] = {}
    while True:
        part = await reader.next()
        if part is None:
            raise BadInput("the form has no 'file' part")
        if not isinstance(part, BodyPartReader):
            raise BadInput("nested multipart bodies are not accepted")
        if part.name == "file":
            return parse(PublishParams, fields), _part_chunks(part)
        if part.name not in PublishParams.model_fields or part.name in fields:
            raise BadInput(f"unexpected form field {part.name!r}")
        raw = bytearray()
        while chunk := await part.read_chunk(FORM_FIELD_MAX):
            raw += chunk
            if len(raw) > FORM_FIELD_MAX:
                raise BadInput(f"form field {part.name!r} is too long")
        fields[part.name] = raw.decode(errors="replace")


async def _part_chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(STREAM_CHUNK):
        yield chunk


@routes.post("/ai/model/rollback")
@responds(AiModelMetaOut)
async def rollback(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    services = request.app[keys.SERVICES]
    await services.ai_models.ensure_admin(claims.user_id)
    body = await read_body(request, RollbackIn)
    return respond(await services.ai_models.rollback(body.family, body.version))


@routes.get("/ai/model/{version}")
@responds(AiModelOut)
async def by_version(request: web.Request) -> web.StreamResponse:
    """Metadata with a signed URL; `?download=1` redirects to the file itself."""
    bearer_claims(request)
    query = read_query(request, VersionQuery)
    version = request.match_info["version"]
    if len(version) > 64:
        raise NotFound(f"no model version {version[:64]}")
    model = await request.app[keys.SERVICES].ai_models.by_version(version)
    data = await _described(request, model)
    if query.download:
        raise web.HTTPFound(data["url"], headers={"Cache-Control": "no-store"})
    return respond(data)


@routes.get("/ai/download/{key:.+}")
async def local_download(request: web.Request) -> web.StreamResponse:
    """The local store's signed URL. aiohttp's FileResponse answers Range, ETag and
    If-None-Match, so an interrupted download resumes."""
    store = request.app[keys.BLOBS]
    if not isinstance(store, LocalBlobStore):
        raise NotFound()
    key = request.match_info["key"]
    if not store.verify_signed(key, request.query.get("expires", ""),
                               request.query.get("sig", "")):
        raise Forbidden("this download link is invalid or has expired", code="bad_signature")
    path = store.path_for(key)
    if not path.is_file():
        raise NotFound("the model file is gone")
    return web.FileResponse(path, headers={"Content-Type": "application/octet-stream",
                                           "Cache-Control": "private, max-age=300, immutable"})


@routes.post("/ai/rl/buffer")
async def rl_upload(request: web.Request) -> web.Response:
    """JSON Lines, streamed: each line is checked alone; the answer counts and reports."""
    claims = bearer_claims(request)
    if request.content_type not in JSONL_TYPES:
        raise UnsupportedMediaType("send JSON Lines as application/x-ndjson")
    report = await request.app[keys.SERVICES].rl_buffer.upload(
        claims.user_id, request.content.iter_chunked(STREAM_CHUNK),
        declared_length=request.content_length)
    return respond(report)


@routes.get("/ai/rl/buffer/stats")
async def rl_stats(request: web.Request) -> web.Response:
    """The caller's own buffer; an administrator also gets the totals over every user."""
    claims = bearer_claims(request)
    if request.query:
        raise BadInput("this endpoint takes no query parameters")
    services = request.app[keys.SERVICES]
    data = await services.rl_buffer.stats(claims.user_id)
    try:
        await services.ai_models.ensure_admin(claims.user_id)
    except Forbidden:
        return respond(data)
    return respond({**data, "totals": await services.rl_buffer.stats(None)})
