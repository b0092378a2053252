"""Every connected device of a player (official socket.io-client) receives `rating:update`."""

import asyncio
import uuid

import pytest

from models.ratings import Rating
from server import keys
from tests.factories import create_user
from tests.jsclient import run_node

pytestmark = pytest.mark.usefixtures("node_ready")


async def wait_for_sockets(server, user_id, count):
    registry = server.app[keys.REALTIME].registry
    for _ in range(200):
        if len(registry.sids_of_user(user_id)) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"user {user_id} never had {count} sockets connected")


async def test_both_devices_of_a_player_receive_rating_update(server):
    players = [await create_user(server) for _ in range(9)]
    hero, bystander = players[4], await create_user(server)
    listening = asyncio.create_task(run_node("rating_update.mjs", server.url, hero.token, "1"))
    quiet = asyncio.create_task(run_node("rating_update.mjs", server.url, bystander.token, "1"))
    await wait_for_sockets(server, hero.id, 2)
    await wait_for_sockets(server, bystander.id, 2)

    tid = f"js-{uuid.uuid4().hex[:8]}"
    await server.services.ratings.apply_result(
        "tournament", tid, [(p.id, place) for place, p in enumerate(players, start=1)])
    result = await listening
    row = await Rating.get(user_id=hero.id)
    # The bystander was connected all along: its first event is the result it played in.
    later = f"js-{uuid.uuid4().hex[:8]}"
    await server.services.ratings.apply_result("p2p", later, [(bystander.id, 1), (hero.id, 2)])
    heard = await quiet

    assert "error" not in result and "connect_error" not in result, result
    for [event] in result["devices"]:
        assert event["room"] == f"user_{hero.id}" and event["seq"] >= 1
        data = event["data"]
        assert data["user_id"] == hero.id
        assert (data["change"]["reason"], data["change"]["source_id"]) == ("tournament", tid)
        assert data["change"]["place"] == 5 and data["change"]["sr_after"] == row.sr
        assert data["rating"]["sr"] == row.sr and data["rating"]["gr"] == row.gr
    assert "error" not in heard, heard
    assert [d[0]["data"]["change"]["source_id"] for d in heard["devices"]] == [later, later]
