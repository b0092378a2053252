"""Tournament REST routes (Spec 21 §4.4, §8). GET or POST only, as the seed asks."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server import keys
from server.http.auth_context import bearer_claims
from server.http.contract import responds
from server.http.envelope import respond
from server.http.inputs import read_body, read_query
from server.http.schemas import TournamentEventsOut, TournamentOut, TournamentResumeOut
from server.services.tournament.service import CreateIn
from server.services.tournament.snapshot import SnapshotIn

routes = web.RouteTableDef()


class ClockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(pattern="^(start|pause|resume)$")


class EventsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after_seq: int = Field(default=0, ge=0)
    limit: int = Field(default=200, ge=1, le=1000)


def _tournaments(request: web.Request):
    return request.app[keys.SERVICES].tournaments


@routes.post("/tournament/create")
@responds(TournamentOut, status=201)
async def create(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    spec = await read_body(request, CreateIn)
    return respond(await _tournaments(request).create(claims.user_id, spec), status=201)


@routes.post("/tournament/snapshot")
async def snapshot(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    body = await read_body(request, SnapshotIn)
    return respond(await _tournaments(request).submit_snapshot(claims.user_id, body))


@routes.get("/tournament/resume/{tournament_id}")
@responds(TournamentResumeOut)
async def resume(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    return respond(await _tournaments(request).resume(claims.user_id,
                                                      request.match_info["tournament_id"]))


@routes.get("/tournament/{tournament_id}/events")
@responds(TournamentEventsOut)
async def events(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    query = read_query(request, EventsQuery)
    return respond(await _tournaments(request).events(
        claims.user_id, request.match_info["tournament_id"], query.after_seq, query.limit))


@routes.post("/tournament/{tournament_id}/clock")
async def clock(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    body = await read_body(request, ClockIn)
    return respond(await _tournaments(request).clock(
        claims.user_id, request.match_info["tournament_id"], body.action))
