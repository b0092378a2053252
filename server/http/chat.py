"""Chat history: `GET /chat/{channel}/messages?before=&limit=`, newest first, with `has_more`."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server import keys
from server.http.auth_context import bearer_claims
from server.http.contract import responds
from server.http.envelope import respond
from server.http.inputs import parse, read_query
from server.http.schemas import ChatMessagesOut
from server.services.rooms import ROOM_NAME_PATTERN

routes = web.RouteTableDef()


class ChannelPath(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(max_length=96, pattern=ROOM_NAME_PATTERN)


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    before: int | None = Field(default=None, ge=1, le=2**63 - 1)
    limit: int = Field(default=50, ge=1, le=200)


@routes.get("/chat/{channel}/messages")
@responds(ChatMessagesOut)
async def channel_messages(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    path = parse(ChannelPath, dict(request.match_info))
    query = read_query(request, HistoryQuery)
    chat = request.app[keys.SERVICES].chat
    return respond(await chat.history(claims.user_id, path.channel, query.before, query.limit))
