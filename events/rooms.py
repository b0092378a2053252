"""`room:*` events: join (with resume from a seq), leave, and replay a missed range."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from server.realtime.dispatch import EventContext, EventSpec
from server.services.rooms import ROOM_NAME_PATTERN

ROOM = Field(min_length=3, max_length=96, pattern=ROOM_NAME_PATTERN)
SEQ_MAX = 2**63 - 1


class JoinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    room: str = ROOM
    last_seq: int | None = Field(default=None, ge=0, le=SEQ_MAX)


class LeaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    room: str = ROOM


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    room: str = ROOM
    after_seq: int = Field(ge=0, le=SEQ_MAX)
    limit: int = Field(default=200, ge=1, le=500)


async def join(ctx: EventContext, payload: JoinIn) -> dict:
    assert ctx.membership is not None
    return await ctx.membership.join(ctx.session, payload.room, payload.last_seq)


async def leave(ctx: EventContext, payload: LeaveIn) -> dict:
    assert ctx.membership is not None
    return await ctx.membership.leave(ctx.session, payload.room)


async def replay(ctx: EventContext, payload: ReplayIn) -> dict:
    assert ctx.membership is not None
    return await ctx.membership.replay(ctx.session, payload.room, payload.after_seq, payload.limit)


EVENTS = [
    EventSpec("room:join", JoinIn, join),
    EventSpec("room:leave", LeaveIn, leave),
    EventSpec("room:replay", ReplayIn, replay),
]
