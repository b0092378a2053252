"""`tournament:*` events: join a tournament's room and resume from the last seq seen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from server.realtime.dispatch import EventContext, EventSpec
from server.services.tournament.service import tournament_room
from server.services.tournament.snapshot import ID_PATTERN


class JoinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tournament_id: str = Field(pattern=ID_PATTERN)
    last_seq: int | None = Field(default=None, ge=0, le=2**63 - 1)


class LeaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tournament_id: str = Field(pattern=ID_PATTERN)


async def join(ctx: EventContext, payload: JoinIn) -> dict:
    """Participants, the host, and spectators of public tournaments (authorised by the room
    policy); missed events after `last_seq` arrive before new ones."""
    assert ctx.membership is not None
    return await ctx.membership.join(ctx.session, tournament_room(payload.tournament_id),
                                     payload.last_seq)


async def leave(ctx: EventContext, payload: LeaveIn) -> dict:
    assert ctx.membership is not None
    return await ctx.membership.leave(ctx.session, tournament_room(payload.tournament_id))


EVENTS = [EventSpec("tournament:join", JoinIn, join), EventSpec("tournament:leave", LeaveIn, leave)]
