"""`bench:*` events: one shared room for the fan-out benchmark, off unless BENCH_ROOM is set.

`bench:pub` publishes through the event bus like any room event (durable log, then delivery),
so the benchmark measures the real delivery path, not a shortcut.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from server.realtime.dispatch import EventContext, EventSpec
from server.services.container import Services

BENCH_ROOM = "bench_1"


class JoinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BenchFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ph: int
    n: int
    ts: float
    pad: str = Field("", max_length=8192)


class PubIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: BenchFields


async def _anyone(user_id: int, room_id: str) -> bool:
    return True


def enable(services: Services) -> list[EventSpec]:
    """Open the `bench` room kind to every authenticated user and return the bench events."""
    services.rooms.register_kind("bench", _anyone)
    return EVENTS


async def join(ctx: EventContext, payload: JoinIn) -> dict:
    # Like `room:join` without presence: presence announces every join to the whole room,
    # which for thousands of joiners would measure presence, not broadcast delivery.
    assert ctx.membership is not None
    delivery = ctx.membership.delivery
    async with delivery.lock(BENCH_ROOM):
        seq = delivery.delivered_seq(BENCH_ROOM)
        if seq is None:
            seq = await ctx.membership.open_room_locked(BENCH_ROOM)
        await ctx.sio.enter_room(ctx.sid, BENCH_ROOM)
        ctx.session.rooms.add(BENCH_ROOM)
    return {"room": BENCH_ROOM, "seq": seq}


async def pub(ctx: EventContext, payload: PubIn) -> dict:
    record = await ctx.services.bus.publish(BENCH_ROOM, "bench:state", payload.data.model_dump())
    return {"seq": record.seq}


EVENTS = [EventSpec("bench:join", JoinIn, join), EventSpec("bench:pub", PubIn, pub)]
