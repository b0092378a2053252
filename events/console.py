"""`console:*` events: an administrator's socket subscribes to the console feed.

After `console:subscribe` the socket receives `console:state` (a complete snapshot) every
`CONSOLE_INTERVAL` seconds until it unsubscribes or disconnects. Anyone else gets `forbidden`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from server.realtime.dispatch import EventContext, EventSpec
from server.services.console import CONSOLE_ROOM


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnsubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


async def subscribe(ctx: EventContext, payload: SubscribeIn) -> dict:
    await ctx.services.console.authorize(ctx.user_id)
    await ctx.join(CONSOLE_ROOM)
    ctx.services.console.watcher_arrived()  # the first snapshot follows right away
    return {"room": CONSOLE_ROOM, "interval_s": ctx.services.settings.console_interval}


async def unsubscribe(ctx: EventContext, payload: UnsubscribeIn) -> dict:
    await ctx.leave(CONSOLE_ROOM)
    return {"room": CONSOLE_ROOM, "left": True}


EVENTS = [EventSpec("console:subscribe", SubscribeIn, subscribe),
          EventSpec("console:unsubscribe", UnsubscribeIn, unsubscribe)]
