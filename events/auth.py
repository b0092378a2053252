"""`auth:refresh`: renew a socket session's expiry with a new access token."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from server.errors import Unauthorized
from server.realtime.dispatch import EventContext, EventSpec


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=4096)


async def refresh(ctx: EventContext, payload: RefreshIn) -> dict:
    claims = ctx.services.tokens.verify_access(payload.token)
    if claims.user_id != ctx.session.user_id or claims.device_id != ctx.session.device_id:
        raise Unauthorized("the token belongs to another user or device")
    await ctx.services.accounts.verify_session(claims)
    ctx.session.expires_at = claims.expires_at
    ctx.session.generation = claims.generation
    return {"expires_at": claims.expires_at}


# Allowed after expiry: it is how an expired session is renewed.
EVENTS = [EventSpec("auth:refresh", RefreshIn, refresh, allow_expired=True)]
