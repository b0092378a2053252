"""Rooms: who may join which room, how long its log is kept, and where its snapshot lives.

A room name is `<kind>_<id>` (`user_7`, `tournament_3`, `table_12`). Each kind registers an
authorizer (the tournament and table domains register theirs); a kind nobody registered is
refused, so a new room kind is private until its domain says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from models.realtime import RoomEvent, RoomSeq
from server.errors import BadInput, Forbidden
from server.services.event_bus import RoomEventRecord
from server.settings import Settings

# `<kind>_<id>`; the event and REST schemas check room names against the same pattern.
ROOM_NAME_PATTERN = r"^[a-z]{1,24}_[A-Za-z0-9-]{1,64}$"
ROOM_NAME = re.compile(ROOM_NAME_PATTERN)

# (user_id, room id part) -> may this user see the room?
Authorizer = Callable[[int, str], Awaitable[bool]]
# room id part -> the REST path a client reloads the room's state from
StateUrl = Callable[[str], str]


@dataclass(frozen=True)
class Retention:
    max_events: int
    max_age_seconds: int


def split_room(room: str) -> tuple[str, str]:
    if not isinstance(room, str) or ROOM_NAME.match(room) is None:
        raise BadInput("room must look like <kind>_<id>")
    kind, _, room_id = room.partition("_")
    return kind, room_id


async def _own_user_room(user_id: int, room_id: str) -> bool:
    return room_id == str(user_id)


class RoomPolicy:
    def __init__(self, settings: Settings):
        self._settings = settings
        self._authorizers: dict[str, Authorizer] = {"user": _own_user_room}
        self._state_urls: dict[str, StateUrl] = {
            "user": lambda _id: "/api/v1/sync/pull",
            "tournament": lambda room_id: f"/api/v1/tournament/resume/{room_id}",
        }

    def register_kind(self, kind: str, authorize: Authorizer, state_url: StateUrl | None = None) -> None:
        """Let members of a room kind in: `authorize(user_id, room_id)` decides per room."""
        self._authorizers[kind] = authorize
        if state_url is not None:
            self._state_urls[kind] = state_url

    async def authorize(self, user_id: int, room: str) -> None:
        """Raise Forbidden unless `user_id` may see `room` (and BadInput for a malformed name)."""
        kind, room_id = split_room(room)
        authorizer = self._authorizers.get(kind)
        if authorizer is None or not await authorizer(user_id, room_id):
            raise Forbidden("you may not join this room")

    def state_url(self, room: str) -> str:
        kind, room_id = split_room(room)
        resolver = self._state_urls.get(kind)
        return resolver(room_id) if resolver else f"/api/v1/rooms/{room}/events"

    def retention(self, room: str) -> Retention:
        kind, _ = split_room(room)
        rule = self._settings.room_retention.get(kind, {})
        return Retention(rule.get("max_events", self._settings.retention_max_events),
                         rule.get("max_age", self._settings.retention_max_age))

    async def retention_floor(self, room: str, head: int) -> int:
        """The highest seq that may already be pruned: a client at or above it can resume from the log."""
        rule = self.retention(room)
        floor = max(0, head - rule.max_events)
        cutoff = datetime.now(UTC) - timedelta(seconds=rule.max_age_seconds)
        expired = await (RoomEvent.filter(room=room, created_at__lt=cutoff, seq__gt=floor)
                         .order_by("-seq").first().values_list("seq", flat=True))
        return max(floor, int(expired or 0))

    async def read_range(self, room: str, after_seq: int, upto: int, limit: int) -> dict[str, Any]:
        """Logged events in (after_seq, upto], or the resync marker when they are past retention."""
        if after_seq > upto:
            raise BadInput("after_seq is ahead of the room")
        if after_seq < await self.retention_floor(room, upto):
            return {"room": room, "seq": upto, "events": [], "has_more": False,
                    "resync_required": True, "state_url": self.state_url(room)}
        page = await read_log(room, after_seq, upto, limit=limit)
        has_more = bool(page) and page[-1].seq < upto
        return {"room": room, "seq": upto, "events": [{"event": r.event, **r.wire()} for r in page],
                "has_more": has_more, "resync_required": False}

    async def prune(self, rooms: list[str] | None = None) -> int:
        """Delete log entries past retention; returns how many went."""
        heads = RoomSeq.all() if rooms is None else RoomSeq.filter(room__in=rooms)
        removed = 0
        for room, head in await heads.values_list("room", "last_seq"):
            try:
                floor = await self.retention_floor(room, int(head))
            except BadInput:
                continue
            if floor:
                removed += await RoomEvent.filter(room=room, seq__lte=floor).delete()
        return removed


async def log_head(room: str) -> int:
    """The room's last committed seq (0 for a room that never had an event)."""
    head = await RoomSeq.filter(room=room).first().values_list("last_seq", flat=True)
    return int(head or 0)


async def log_heads(rooms: list[str]) -> dict[str, int]:
    rows = await RoomSeq.filter(room__in=rooms).values_list("room", "last_seq")
    return {room: int(seq) for room, seq in rows}


async def read_log(room: str, after_seq: int, upto_seq: int | None = None,
                   limit: int = 500) -> list[RoomEventRecord]:
    """Committed events of `room` with after_seq < seq <= upto_seq, in seq order."""
    query = RoomEvent.filter(room=room, seq__gt=after_seq)
    if upto_seq is not None:
        query = query.filter(seq__lte=upto_seq)
    rows = await query.order_by("seq").limit(limit)
    return [RoomEventRecord(r.room, r.seq, r.event, r.payload, r.created_at) for r in rows]
