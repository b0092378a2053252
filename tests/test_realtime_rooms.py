"""Rooms across two instances sharing PostgreSQL and Redis, driven by real socket.io clients."""

import asyncio
import time
import uuid

import aiohttp
import pytest

from models.realtime import RoomEvent
from server import keys
from tests.factories import create_user
from tests.jsclient import run_node
from tests.room_followers import Followers


async def _open_tables(user_id: int, room_id: str) -> bool:
    return room_id.startswith("open")


@pytest.fixture
async def pair(start_app, make_settings, pg_url, redis_url, redis_prefix, node_ready):
    """Instances A and B on one database and one Redis; `table_open*` rooms are open to all."""
    instances = []
    for name in ("a", "b"):
        inst = await start_app(make_settings(
            database_url=pg_url, redis_url=redis_url, redis_prefix=redis_prefix, instance_id=name,
            room_retention={"table": {"max_events": 5}}, gap_check_interval=3600))
        inst.services.rooms.register_kind("table", _open_tables)
        instances.append(inst)
    return instances


def table() -> str:
    return f"table_open{uuid.uuid4().hex[:10]}"


async def logged(room: str, after: int = 0) -> list[int]:
    """The room's seqs in the log after `after`: what a follower must end up with.

    Its own `presence:leave`, published as it disconnects after the last event, is left out.
    """
    return list(await RoomEvent.filter(room=room, seq__gt=after).exclude(event="presence:leave")
                .order_by("seq").values_list("seq", flat=True))


async def test_an_event_published_through_b_reaches_clients_on_a_in_seq_order(pair):
    a, b = pair
    user = await create_user(a)
    room = table()
    followers = await Followers.start(urls=[a.url], tokens=[user.token] * 3, rooms=[room],
                                      until="test:end", until_rooms=[room])
    # The periodic gap check is off here, so Redis carries them; A subscribes per room.
    fanout_a, fanout_b = (i.app[keys.REALTIME].core.fanout for i in (a, b))
    for _ in range(200):
        if room in fanout_a.subscribed:
            break
        await asyncio.sleep(0.01)
    assert room in fanout_a.subscribed and room not in fanout_b.subscribed
    for i in range(40):
        await b.services.bus.publish(room, "table:update", {"i": i})
    await b.services.bus.publish(room, "test:end", {})
    result = await followers.result()
    assert not result["timed_out"], result
    assert (await logged(room))[:1] == [1]
    for client in result["clients"]:
        events = client["rooms"][room]["events"]
        # Each gets every event after the seq its join ack named, once and in seq order. Only
        # the first device's join announces the user, so a later device may join after seq 1.
        joined_at = client["join_acks"][0]["data"]["seq"]
        assert joined_at in (0, 1) and events.count("table:update") == 40
        assert client["rooms"][room]["seqs"] == list(range(joined_at + 1, 43))
        assert client["rooms"][room]["seqs"] == await logged(room, joined_at)
        assert client["duplicates"] == 0 and client["gaps"] == 0 and client["switches"] == 0
    assert any(c["rooms"][room]["events"][0] == "presence:join" for c in result["clients"])


async def test_join_with_last_seq_replays_exactly_the_missed_events_before_new_ones(pair):
    a, b = pair
    user = await create_user(a)
    room = table()
    for i in range(3):
        await b.services.bus.publish(room, "table:update", {"i": i})
    followers = await Followers.start(urls=[a.url], tokens=[user.token], rooms=[room],
                                      last_seq={room: 1}, until="test:end", until_rooms=[room])
    await b.services.bus.publish(room, "table:update", {"i": 3})
    await b.services.bus.publish(room, "test:end", {})
    result = await followers.result()
    client = result["clients"][0]
    assert client["rooms"][room]["seqs"] == [2, 3, 4, 5, 6] == await logged(room, 1)
    assert client["rooms"][room]["events"][:3] == ["table:update", "table:update", "presence:join"]
    assert client["join_acks"][0]["data"] == {"room": room, "seq": 3, "replayed": 2,
                                              "resync_required": False, "present": [user.id]}
    assert client["duplicates"] == 0


async def test_the_user_room_resumes_from_the_handshake_last_seq(pair):
    a, b = pair
    user = await create_user(a)
    room = f"user_{user.id}"
    for i in range(4):
        await b.services.bus.publish(room, "settings:update", {"i": i})
    followers = await Followers.start(urls=[a.url], tokens=[user.token], rooms=[room],
                                      last_seq={room: 2}, until="test:end", until_rooms=[room])
    await b.services.bus.publish(room, "test:end", {})
    client = (await followers.result())["clients"][0]
    assert client["rooms"][room]["seqs"] == [3, 4, 5]
    assert client["rooms"][room]["events"] == ["settings:update", "settings:update", "test:end"]


async def test_a_client_behind_retention_gets_resync_required_then_live_events(pair):
    a, b = pair
    user = await create_user(a)
    room = table()
    for i in range(12):  # retention keeps 5 per table room
        await b.services.bus.publish(room, "table:update", {"i": i})
    followers = await Followers.start(urls=[a.url], tokens=[user.token], rooms=[room],
                                      last_seq={room: 3}, until="test:end", until_rooms=[room])
    await b.services.bus.publish(room, "test:end", {})
    client = (await followers.result())["clients"][0]
    assert client["resyncs"] == [{"room": room, "seq": 12,
                                  "state_url": f"/api/v1/rooms/{room}/events"}]
    # presence:join (13) and test:end (14): live events go on from the current seq.
    assert client["rooms"][room]["seqs"] == [13, 14] == await logged(room, 12)
    assert client["join_acks"][0]["data"]["resync_required"] is True
    # Within retention the same client resumes from the log.
    followers = await Followers.start(urls=[b.url], tokens=[user.token], rooms=[room],
                                      last_seq={room: 10}, expect={room: 14})
    client = (await followers.result())["clients"][0]
    assert client["rooms"][room]["seqs"][:4] == [11, 12, 13, 14] and client["resyncs"] == []


async def test_pruning_removes_only_events_past_retention(pair):
    a, b = pair
    room = table()
    for i in range(9):
        await b.services.bus.publish(room, "table:update", {"i": i})
    assert await a.services.rooms.prune([room]) == 4
    page = await a.services.rooms.read_range(room, 4, 9, 100)
    assert [e["seq"] for e in page["events"]] == [5, 6, 7, 8, 9]
    assert (await a.services.rooms.read_range(room, 3, 9, 100))["resync_required"] is True


async def test_joins_are_authorized_per_room_kind(pair):
    a, _ = pair
    user = await create_user(a)
    rooms = ["tournament_1", f"table_closed{uuid.uuid4().hex[:6]}", "chess_1"]
    followers = await Followers.start(urls=[a.url], tokens=[user.token], rooms=rooms, expect={})
    acks = (await followers.result())["clients"][0]["join_acks"]
    assert [ack["status"] for ack in acks] == ["error"] * 3, acks
    assert {ack["error"]["code"] for ack in acks} == {"forbidden"}


async def test_malformed_join_and_replay_payloads_are_refused(pair):
    a, _ = pair
    user = await create_user(a)
    result = await run_node("room_errors.mjs", a.url, user.token, str(user.id))
    assert result["join_bad_name"]["error"]["code"] == "bad_input"
    assert result["join_extra_key"]["error"]["code"] == "bad_input"
    assert result["join_negative_seq"]["error"]["code"] == "bad_input"
    assert result["join_ahead"]["error"]["code"] == "bad_input"
    assert result["replay_ahead"]["error"]["code"] == "bad_input"
    assert result["replay_other_user"]["error"]["code"] == "forbidden"
    assert result["join_other_user"]["error"]["code"] == "forbidden"
    assert result["join_own"]["status"] == "ok"


async def test_rest_replay_serves_the_log_to_members_only(pair):
    a, b = pair
    user = await create_user(a)
    stranger = await create_user(a)
    room = f"user_{user.id}"
    for i in range(3):
        await b.services.bus.publish(room, "settings:update", {"i": i})
    async with aiohttp.ClientSession() as http:
        url = f"{a.url}/api/v1/rooms/{room}/events"
        async with http.get(url, params={"after_seq": "1", "limit": "1"}, headers=user.headers) as resp:
            body = await resp.json()
            assert resp.status == 200
            assert [e["seq"] for e in body["data"]["events"]] == [2]
            assert body["data"]["has_more"] is True
        async with http.get(url, headers=stranger.headers) as resp:
            assert resp.status == 403
        async with http.get(url, params={"after_seq": "99"}, headers=user.headers) as resp:
            assert resp.status == 400
        async with http.get(url, params={"after_seq": "x"}, headers=user.headers) as resp:
            assert resp.status == 422
        async with http.get(url) as resp:
            assert resp.status == 401


async def test_presence_spans_instances_and_a_dead_instances_members_expire(
        start_app, make_settings, pg_url, redis_url, redis_prefix, node_ready):
    a, b = [await start_app(make_settings(
        database_url=pg_url, redis_url=redis_url, redis_prefix=redis_prefix, instance_id=name,
        presence_ttl=3, presence_leave_grace=0)) for name in ("pa", "pb")]
    for inst in (a, b):
        inst.services.rooms.register_kind("table", _open_tables)
    alice, bob = await create_user(a), await create_user(b)
    room = table()
    # A member of an instance that died: its entry is no longer refreshed and runs out.
    ghost = 987654321
    redis = a.app[keys.REDIS]
    await redis.zadd(f"{redis_prefix}:presence:{room}", {f"{ghost}|dead": time.time() + 4})
    watcher = await Followers.start(urls=[a.url], tokens=[alice.token], rooms=[room],
                                    until="test:end", until_rooms=[room])
    joiner = await Followers.start(urls=[b.url], tokens=[bob.token], rooms=[room], expect={})
    joined = (await joiner.result())["clients"][0]["join_acks"][0]["data"]
    assert joined["present"] == sorted([alice.id, bob.id, ghost])
    for _ in range(100):  # the sweep runs every ttl/3 seconds
        if await RoomEvent.filter(room=room, event="presence:leave", payload__contains={"user_id": ghost}).exists():
            break
        await asyncio.sleep(0.1)
    await a.services.bus.publish(room, "test:end", {})
    seen = (await watcher.result())["clients"][0]["rooms"][room]
    kinds = list(zip(seen["events"], seen["seqs"]))
    payloads = await RoomEvent.filter(room=room, event__startswith="presence:").order_by("seq") \
        .values_list("event", "payload")
    assert ("presence:join", {"user_id": bob.id}) in payloads
    assert ("presence:leave", {"user_id": ghost}) in payloads
    assert ("presence:leave", {"user_id": bob.id}) in payloads  # bob's client closed
    assert [k for k, _ in kinds].count("presence:join") == 2  # alice, then bob from the other instance
    assert await b.app[keys.REALTIME].core.presence.members(room) == []  # everyone left


async def test_two_racing_resumes_of_one_room_replay_it_once(pair):
    from tests.socket_capture import CapturingSocket

    a, b = pair
    user = await create_user(a)
    room = table()
    for i in range(8):  # the pair keeps 5 events per table room: resume from inside them
        await b.services.bus.publish(room, "table:update", {"i": i})
    socket = await CapturingSocket.connect(a, user.token)
    try:
        answers = await asyncio.gather(*(socket.call("room:join", {"room": room, "last_seq": 5})
                                         for _ in range(3)))
        await b.services.bus.publish(room, "test:end", {})
        await socket.wait_for("test:end")
    finally:
        await socket.close()

    assert all(answer["status"] == "ok" for answer in answers), answers
    assert sorted(answer["data"]["replayed"] for answer in answers) == [0, 0, 3]
    seqs = [data["seq"] for event, data in socket.received
            if isinstance(data, dict) and data.get("room") == room]
    assert seqs == list(range(6, seqs[-1] + 1))  # each once, in order, none missed
    assert seqs[-1] == (await logged(room))[-1]
