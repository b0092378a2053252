"""Presence leave grace: a member who drops and comes back within it never left."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import pytest

from models.realtime import RoomEvent
from server import keys
from tests.factories import create_user
from tests.socket_capture import CapturingSocket


async def _open_tables(user_id: int, room_id: str) -> bool:
    return room_id.startswith("open")


class Stage(NamedTuple):
    """A server with the given grace, its presence, one user and an open table."""

    server: Any
    presence: Any
    user: Any
    room: str


@pytest.fixture
def start_server(start_app, make_settings, pg_url, redis_url, redis_prefix
                 ) -> Callable[[float], Awaitable[Stage]]:
    async def start(grace: float) -> Stage:
        server = await start_app(make_settings(
            database_url=pg_url, redis_url=redis_url, redis_prefix=redis_prefix,
            presence_leave_grace=grace))
        server.services.rooms.register_kind("table", _open_tables)
        return Stage(server, server.app[keys.REALTIME].core.presence, await create_user(server),
                     f"table_open{uuid.uuid4().hex[:10]}")

    return start


async def presence_log(room: str) -> list[str]:
    return list(await RoomEvent.filter(room=room, event__startswith="presence:").order_by("seq")
                .values_list("event", flat=True))


async def enter(server, token: str, room: str, last_seq: int | None = None,
                device_id: str = "dev-1") -> CapturingSocket:
    socket = await CapturingSocket.connect(server, token, device_id)
    join = {"room": room} if last_seq is None else {"room": room, "last_seq": last_seq}
    reply = await socket.call("room:join", join)
    assert reply["status"] == "ok", reply
    return socket


async def close_and_wait(server, socket: CapturingSocket, user_id: int, remaining: int = 0) -> None:
    """Close the socket and wait until the server has let it go."""
    await socket.close()
    registry = server.app[keys.REALTIME].registry
    for _ in range(100):
        if len(registry.sids_of_user(user_id)) == remaining:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the server kept the closed socket")


async def test_a_member_back_within_the_grace_never_left(start_server):
    # A grace longer than a reconnect takes on a loaded machine.
    server, presence, user, room = await start_server(3.0)
    socket = await enter(server, user.token, room)
    await close_and_wait(server, socket, user.id)
    assert await presence.members(room) == [user.id]  # still present while the grace runs
    seq = (await RoomEvent.filter(room=room).order_by("-seq").first()).seq
    socket = await enter(server, user.token, room, last_seq=seq)
    try:
        await asyncio.sleep(3.5)  # past the grace: the cancelled leave stays cancelled
        assert await presence_log(room) == ["presence:join"]
        assert await presence.members(room) == [user.id]
    finally:
        await socket.close()


async def test_a_member_away_longer_than_the_grace_leaves_once(start_server):
    server, presence, user, room = await start_server(0.5)
    await close_and_wait(server, await enter(server, user.token, room), user.id)
    assert await presence_log(room) == ["presence:join"]  # not at once
    await asyncio.sleep(1.0)
    assert await presence_log(room) == ["presence:join", "presence:leave"]
    assert await presence.members(room) == []


async def test_closing_one_of_two_sockets_of_a_user_announces_nothing(start_server):
    server, presence, user, room = await start_server(0.5)
    phone = await enter(server, user.token, room, device_id="phone")
    tablet = await enter(server, user.token, room, device_id="tablet")
    try:
        await close_and_wait(server, phone, user.id, remaining=1)
        await asyncio.sleep(1.0)
        assert await presence_log(room) == ["presence:join"]
        assert await presence.members(room) == [user.id]
    finally:
        await tablet.close()


async def test_leaving_on_purpose_is_announced_at_once(start_server):
    server, presence, user, room = await start_server(30.0)
    socket = await enter(server, user.token, room)
    try:
        reply = await socket.call("room:leave", {"room": room})
        assert reply["status"] == "ok", reply
        assert await presence_log(room) == ["presence:join", "presence:leave"]
        assert await presence.members(room) == []
    finally:
        await socket.close()
