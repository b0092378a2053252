"""The admin console's picture of one instance, built fresh for every push.

The realtime layer hands over what only it can see (`LiveView`: sockets, rooms with members
here, its event counters); this service adds what the database knows (who those users are, the
newest entries of the durable room log, the models served, the tournaments in play) and turns
counter readings into rates. Nothing here knows about sockets or HTTP.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from tortoise.functions import Count

from models.accounts import User
from models.ai import AiModel, AiModelFamily
from models.realtime import RoomEvent
from models.tournaments import Tournament
from server import jsonutil
from server.errors import Forbidden

CONSOLE_ROOM = "console"  # not a `<kind>_<id>` name, so `room:join` can never reach it
MAX_USERS = 100
MAX_ROOMS = 100
MEMBERS_LISTED = 20
RECENT_ROWS = 60  # newest log entries read per push, grouped by room below
RECENT_PER_ROOM = 5
MAX_TOURNAMENTS = 25
PREVIEW_CHARS = 140


# -- what the realtime layer reports ---------------------------------------------------------

@dataclass(frozen=True)
class LiveSocket:
    user_id: int
    device_id: str


@dataclass(frozen=True)
class LiveRoom:
    room: str
    sockets: int
    user_ids: frozenset[int]
    seq: int | None  # the last seq delivered here


@dataclass(frozen=True)
class LiveView:
    instance: str
    sockets: list[LiveSocket]
    rooms: list[LiveRoom]
    published: int  # room events committed on this instance, ever
    delivered: int  # room events emitted to local members, ever


# -- what the console receives (`console:state`) -----------------------------------------------

class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsoleUser(_Out):
    user_id: int
    nickname: str | None
    sockets: int
    devices: list[str]


class ConsoleConnections(_Out):
    sockets: int
    users: int
    by_user: list[ConsoleUser]  # the MAX_USERS users with the most sockets


class ConsoleRoom(_Out):
    room: str
    sockets: int
    users: int
    user_ids: list[int]  # the first MEMBERS_LISTED
    seq: int | None


class ConsoleRates(_Out):
    published_total: int
    delivered_total: int
    published_per_s: float | None  # None on the first push (no earlier reading)
    delivered_per_s: float | None


class ConsoleLoggedEvent(_Out):
    seq: int
    event: str
    at: datetime
    preview: str


class ConsoleRoomLog(_Out):
    room: str
    events: list[ConsoleLoggedEvent]  # newest first


class ConsoleModelFamily(_Out):
    family: str
    type: str
    version: str
    sha256: str
    size: int
    versions_published: int
    updated_at: datetime


class ConsoleTournament(_Out):
    tournament_id: str
    name: str
    status: str
    is_public: bool
    owner_id: int
    players: int
    players_left: int
    level: int | None
    snapshot_version: int


class ConsoleTournaments(_Out):
    by_status: dict[str, int]
    active: list[ConsoleTournament]  # not finished, newest first


class ConsoleState(_Out):
    instance: str
    server_time: float
    connections: ConsoleConnections
    rooms: list[ConsoleRoom]
    rates: ConsoleRates
    recent_events: list[ConsoleRoomLog]
    models: list[ConsoleModelFamily]
    tournaments: ConsoleTournaments


@dataclass(frozen=True)
class _Reading:
    at: float
    published: int
    delivered: int


class ConsoleService:
    def __init__(self) -> None:
        self._watched = asyncio.Event()
        self._last: _Reading | None = None

    async def authorize(self, user_id: int) -> None:
        """Only administrators may watch the console."""
        if not await User.filter(id=user_id, is_admin=True).exists():
            raise Forbidden("only an administrator may watch the console")

    # The feed idles until someone subscribes, so an unwatched instance pays nothing.
    def watcher_arrived(self) -> None:
        self._watched.set()

    async def until_watched(self) -> None:
        """Wait for a subscription, then consume the signal."""
        await self._watched.wait()
        self._watched.clear()

    async def state(self, live: LiveView) -> ConsoleState:
        """One complete snapshot: the live view plus what the database holds."""
        return ConsoleState(
            instance=live.instance, server_time=time.time(),
            connections=await _connections(live.sockets), rooms=_rooms(live.rooms),
            rates=self._rates(live), recent_events=await _recent_events(),
            models=await _models(), tournaments=await _tournaments(),
        )

    def _rates(self, live: LiveView) -> ConsoleRates:
        now = _Reading(time.monotonic(), live.published, live.delivered)
        last, self._last = self._last, now
        published_rate = delivered_rate = None
        if last is not None and now.at > last.at:
            span = now.at - last.at
            published_rate = round(max(0, now.published - last.published) / span, 2)
            delivered_rate = round(max(0, now.delivered - last.delivered) / span, 2)
        return ConsoleRates(published_total=live.published, delivered_total=live.delivered,
                            published_per_s=published_rate, delivered_per_s=delivered_rate)


async def _connections(sockets: list[LiveSocket]) -> ConsoleConnections:
    counts: dict[int, int] = defaultdict(int)
    devices: dict[int, set[str]] = defaultdict(set)
    for socket in sockets:
        counts[socket.user_id] += 1
        devices[socket.user_id].add(socket.device_id)
    shown = sorted(counts, key=lambda user_id: (-counts[user_id], user_id))[:MAX_USERS]
    names = dict(await User.filter(id__in=shown).values_list("id", "nickname")) if shown else {}
    return ConsoleConnections(
        sockets=len(sockets), users=len(counts),
        by_user=[ConsoleUser(user_id=user_id, nickname=names.get(user_id), sockets=counts[user_id],
                             devices=sorted(devices[user_id])) for user_id in shown])


def _rooms(rooms: list[LiveRoom]) -> list[ConsoleRoom]:
    busiest = sorted(rooms, key=lambda r: (-r.sockets, r.room))[:MAX_ROOMS]
    return [ConsoleRoom(room=r.room, sockets=r.sockets, users=len(r.user_ids),
                        user_ids=sorted(r.user_ids)[:MEMBERS_LISTED], seq=r.seq) for r in busiest]


async def _recent_events() -> list[ConsoleRoomLog]:
    rows = await RoomEvent.all().order_by("-id").limit(RECENT_ROWS) \
        .values("room", "seq", "event", "payload", "created_at")
    by_room: dict[str, list[ConsoleLoggedEvent]] = {}  # rooms in order of their newest event
    for row in rows:
        events = by_room.setdefault(row["room"], [])
        if len(events) < RECENT_PER_ROOM:
            events.append(ConsoleLoggedEvent(seq=row["seq"], event=row["event"],
                                             at=row["created_at"],
                                             preview=_preview(row["payload"])))
    return [ConsoleRoomLog(room=room, events=events) for room, events in by_room.items()]


def _preview(payload: Any) -> str:
    text = jsonutil.dumps(payload)
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"


async def _models() -> list[ConsoleModelFamily]:
    families = await AiModelFamily.all().order_by("family").select_related("current")
    published = dict(await AiModel.annotate(n=Count("id")).group_by("family")
                     .values_list("family", "n"))
    return [ConsoleModelFamily(family=f.family, type=f.type, version=f.current.version,
                               sha256=f.current.sha256, size=f.current.size,
                               versions_published=int(published.get(f.family, 0)),
                               updated_at=f.updated_at) for f in families]


async def _tournaments() -> ConsoleTournaments:
    by_status = dict(await Tournament.annotate(n=Count("id")).group_by("status")
                     .values_list("status", "n"))
    active = await Tournament.exclude(status="finished").order_by("-created_at") \
        .limit(MAX_TOURNAMENTS)
    return ConsoleTournaments(
        by_status={status: int(n) for status, n in sorted(by_status.items())},
        active=[ConsoleTournament(
            tournament_id=t.id, name=t.name, status=t.status, is_public=t.is_public,
            owner_id=t.owner_id,  # type: ignore[attr-defined]
            players=len(t.players),
            players_left=len(t.state["players"]) if t.state else len(t.players),
            level=t.state["level"] if t.state else None, snapshot_version=t.snapshot_version,
        ) for t in active])
