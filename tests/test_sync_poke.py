"""AutoSync: committed changes reach the user's devices as one debounced `sync:poke` with the clock."""

from __future__ import annotations

import asyncio
import json
import uuid

import aiohttp
import socketio

from models.realtime import RoomEvent
from tests.factories import create_user


async def wait_for(predicate, timeout: float = 10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await predicate()):
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)
    return result


async def pokes(user_id: int) -> list[RoomEvent]:
    return await RoomEvent.filter(room=f"user_{user_id}", event="sync:poke").order_by("seq")


async def test_changes_in_one_window_become_one_poke_carrying_the_latest_clock(
    start_app, make_settings
):
    server = await start_app(make_settings(sync_poke_debounce=1.0))
    user = await create_user(server)
    received: list[dict] = []
    client = socketio.AsyncClient(reconnection=False)
    client.on("sync:poke", lambda data: received.append(data))
    await client.connect(
        server.url,
        auth={"token": user.token, "device_id": user.device_id},
        transports=["websocket"],
    )
    try:
        stamps = []
        async with aiohttp.ClientSession() as http:
            for _ in range(3):
                body = {"hand_id": uuid.uuid4().hex, "game_type": "nlhe", "record_json": {"n": 1}}
                async with http.post(
                    f"{server.url}/api/v1/history/hand", json=body, headers=user.headers
                ) as res:
                    stamps.append((await res.json())["data"]["last_modified"])
        logged = await wait_for(lambda: pokes(user.id))
        await wait_for(lambda: _received(received))
        await asyncio.sleep(1.5)  # a second poke would have been sent by now
        logged = await pokes(user.id)
        assert len(logged) == 1 and logged[0].payload == {"clock": max(stamps)}
        assert len(received) == 1 and received[0]["data"] == {"clock": max(stamps)}
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"{server.url}/api/v1/sync/pull",
                params={"last_pulled_at": "null"},
                headers=user.headers,
            ) as res,
        ):
            pulled = await res.json()
        # A client whose last pull reached the poke's clock has nothing to fetch.
        assert pulled["data"]["timestamp"] == max(stamps)
    finally:
        await client.disconnect()


async def test_a_refused_push_sends_no_poke_and_a_push_does(sqlite_server):
    user = await create_user(sqlite_server)
    headers = {**user.headers, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sqlite_server.url}/api/v1/sync/pull", headers=user.headers) as res:
            lp = (await res.json())["data"]["timestamp"]
        bad = {"hands": {"created": [{"id": "a1", "game_type": "x", "record_json": "[]"}]}}
        async with http.post(
            f"{sqlite_server.url}/api/v1/sync/push?last_pulled_at={lp}",
            data=json.dumps(bad),
            headers=headers,
        ) as res:
            assert res.status == 422
        await asyncio.sleep(sqlite_server.settings.sync_poke_debounce + 0.5)
        assert await pokes(user.id) == []
        good = {"hands": {"created": [{"id": "a1", "game_type": "x", "record_json": "{}"}]}}
        async with http.post(
            f"{sqlite_server.url}/api/v1/sync/push?last_pulled_at={lp}",
            data=json.dumps(good),
            headers=headers,
        ) as res:
            clock = (await res.json())["data"]["timestamp"]
    logged = await wait_for(lambda: pokes(user.id))
    assert [p.payload for p in logged] == [{"clock": clock}]


async def _received(events: list[dict]) -> list[dict]:
    return events
