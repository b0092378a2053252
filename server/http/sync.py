"""WatermelonDB sync routes. They answer in the usual envelope: the client adapter unwraps `data`.

`GET /sync/pull?last_pulled_at=&schema_version=&migration=` → data `{changes, timestamp}`
`POST /sync/push?last_pulled_at=` with the changes object as the body → data `{timestamp, changed}`
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from server import jsonutil, keys
from server.errors import BadInput
from server.http.auth_context import bearer_claims
from server.http.contract import accepts, responds
from server.http.envelope import respond
from server.http.inputs import read_json, read_query
from server.http.schemas import SyncPullOut, SyncPushIn, SyncPushOut
from server.services.sync import parse_migration

routes = web.RouteTableDef()

_CLOCK = Field(None, ge=1, le=2**62)


def _nullable(value: Any) -> Any:
    # WatermelonDB sends a missing value as the text "null" (or leaves it empty).
    return None if value in ("", "null", "undefined") else value


class PullQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    last_pulled_at: int | None = _CLOCK
    schema_version: int | None = Field(None, ge=1, le=1_000_000)
    migration: str | None = Field(None, max_length=64 * 1024)

    @field_validator("last_pulled_at", "schema_version", "migration", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return _nullable(value)


class PushQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    last_pulled_at: int = Field(ge=1, le=2**62)


@routes.get("/sync/pull")
@responds(SyncPullOut)
async def pull(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    query = read_query(request, PullQuery)
    migration = None
    if query.migration is not None:
        try:
            migration = parse_migration(jsonutil.loads(query.migration))
        except ValueError as exc:
            raise BadInput("migration is not valid JSON") from exc
    return respond(await request.app[keys.SERVICES].sync.pull(
        claims.user_id, claims.device_id, query.last_pulled_at, migration))


@routes.post("/sync/push")
@accepts(SyncPushIn)
@responds(SyncPushOut)
async def push(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    query = read_query(request, PushQuery)
    changes = await read_json(request)
    return respond(await request.app[keys.SERVICES].sync.push(
        claims.user_id, claims.device_id, query.last_pulled_at, changes))


async def flush_sync_pokes(app: web.Application) -> None:
    """On shutdown, announce changes still inside their debounce window."""
    await app[keys.SERVICES].poker.flush()
