"""Two app instances in one process share the database; neither is a module global."""

import uuid

import aiohttp

from models.realtime import RoomEvent


async def test_two_instances_run_side_by_side(start_app, make_settings, db_url):
    a = await start_app(make_settings(database_url=db_url, instance_id="a"))
    b = await start_app(make_settings(database_url=db_url, instance_id="b"))
    assert a.app is not b.app and a.services.bus is not b.services.bus
    async with aiohttp.ClientSession() as http:
        for inst, name in ((a, "a"), (b, "b")):
            async with http.get(inst.url + "/healthz") as resp:
                assert (await resp.json())["data"]["instance"] == name
    room = f"shared_{uuid.uuid4().hex[:8]}"
    await a.services.bus.publish(room, "e", {"from": "a"})
    await b.services.bus.publish(room, "e", {"from": "b"})
    rows = await RoomEvent.filter(room=room).order_by("seq").values_list("seq", "payload")
    assert rows == [(1, {"from": "a"}), (2, {"from": "b"})]
    await a.runner.cleanup()
    a_gone = a
    async with aiohttp.ClientSession() as http, http.get(b.url + "/readyz") as resp:
        assert resp.status == 200
    assert a_gone.runner.server is None
