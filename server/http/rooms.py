"""`GET /rooms/{room}/events?after_seq=&limit=`: the room's log over REST, for gap repair."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server import keys
from server.http.auth_context import bearer_claims
from server.http.contract import responds
from server.http.envelope import respond
from server.http.inputs import parse, read_query
from server.http.schemas import RoomEventsOut
from server.services.rooms import ROOM_NAME_PATTERN, log_head

routes = web.RouteTableDef()


class RoomPath(BaseModel):
    model_config = ConfigDict(extra="forbid")
    room: str = Field(max_length=96, pattern=ROOM_NAME_PATTERN)


class EventsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after_seq: int = Field(default=0, ge=0, le=2**63 - 1)
    limit: int = Field(default=200, ge=1, le=500)


@routes.get("/rooms/{room}/events")
@responds(RoomEventsOut)
async def room_events(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    path = parse(RoomPath, dict(request.match_info))
    query = read_query(request, EventsQuery)
    rooms = request.app[keys.SERVICES].rooms
    await rooms.authorize(claims.user_id, path.room)
    head = await log_head(path.room)
    return respond(await rooms.read_range(path.room, query.after_seq, head, query.limit))
