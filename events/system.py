"""`system:*` events: liveness from the client's side."""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field

from server.realtime.dispatch import EventContext, EventSpec


class PingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nonce: str | None = Field(default=None, max_length=64)


async def ping(ctx: EventContext, payload: PingIn) -> dict:
    return {"pong": True, "nonce": payload.nonce, "user_id": ctx.user_id,
            "server_time": time.time()}


EVENTS = [EventSpec("system:ping", PingIn, ping)]
