"""`chat:send`: a message to a channel (a room), acked `saved` with the server id and time.

Errors come back as the usual error envelope (`bad_input`, `forbidden`, `rate_limited`), which is
the seed's `error` ack with its reason. A resend with the same `client_msg_id` returns the
stored message with `duplicate: true` and publishes nothing.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from events.rooms import ROOM
from server.realtime.dispatch import EventContext, EventSpec


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = ROOM
    client_msg_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    body: str = Field(min_length=1, max_length=20_000)  # the service applies the configured cap


async def send(ctx: EventContext, payload: SendIn) -> dict:
    sent = await ctx.services.chat.send(ctx.user_id, payload.channel, payload.client_msg_id,
                                        payload.body)
    return {"ack": "saved", "duplicate": sent.duplicate, "message": sent.message}


EVENTS = [EventSpec("chat:send", SendIn, send)]
