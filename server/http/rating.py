"""Rating routes: read ratings, history and the leaderboard, and check a client's claim.

Ratings and their history are the owner's (or an admin's) to read; the leaderboard is for
every signed-in player. Nothing here writes a rating: `POST /rating/update` is a claim the
server answers with its own values.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from models.accounts import User
from server import keys
from server.errors import Forbidden
from server.http.auth_context import bearer_claims
from server.http.contract import responds
from server.http.envelope import respond
from server.http.inputs import parse, read_body, read_query
from server.http.schemas import ClaimCheckOut, LeaderboardOut, RatingHistoryOut, RatingOut
from server.services.ratings import ClaimIn

routes = web.RouteTableDef()

MAX_USER_ID = 2**63 - 1


class UserPath(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: int = Field(ge=1, le=MAX_USER_ID)


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=20, ge=1, le=100)
    before: int | None = Field(default=None, ge=1, le=MAX_USER_ID)


class LeaderboardQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["sr", "mr", "gr"] = "gr"
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000)


async def _readable_user(request: web.Request) -> int:
    """The path's user id, if the caller may read it: their own, or any for an admin."""
    caller = bearer_claims(request)
    target = parse(UserPath, dict(request.match_info)).user_id
    if target != caller.user_id and not await User.exists(id=caller.user_id, is_admin=True):
        raise Forbidden("ratings and their history are visible to their owner only")
    return target


# Registered before /rating/{user_id}: aiohttp matches routes in order.
@routes.get("/rating/leaderboard")
@responds(LeaderboardOut)
async def leaderboard(request: web.Request) -> web.Response:
    caller = bearer_claims(request)
    query = read_query(request, LeaderboardQuery)
    return respond(await request.app[keys.SERVICES].ratings.leaderboard(
        query.kind, limit=query.limit, offset=query.offset, caller_id=caller.user_id))


@routes.get("/rating/{user_id}")
@responds(RatingOut)
async def rating(request: web.Request) -> web.Response:
    user_id = await _readable_user(request)
    return respond(await request.app[keys.SERVICES].ratings.rating(user_id))


@routes.get("/rating/{user_id}/history")
@responds(RatingHistoryOut)
async def history(request: web.Request) -> web.Response:
    user_id = await _readable_user(request)
    query = read_query(request, HistoryQuery)
    return respond(await request.app[keys.SERVICES].ratings.history(
        user_id, limit=query.limit, before=query.before))


@routes.post("/rating/update")
@responds(ClaimCheckOut)
async def claim_update(request: web.Request) -> web.Response:
    caller = bearer_claims(request)
    body = await read_body(request, ClaimIn)
    return respond(await request.app[keys.SERVICES].ratings.check_claim(caller.user_id,
                                                                          body.claim()))
