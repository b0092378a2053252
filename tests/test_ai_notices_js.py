"""`model:update` with the official JavaScript client: at connect for out-of-date families, and
live on publish and rollback, to the clients of that family only."""

from __future__ import annotations

import asyncio
import json
import uuid

import aiohttp
import pytest

from tests.factories import create_user
from tests.jsclient import run_node
from tests.onnx_builders import tiny_model
from tests.services import ROOT

pytestmark = pytest.mark.usefixtures("node_ready")

API = "/api/v1"


async def publish(app, admin, family: str, version: str, scale: float = 1.0) -> None:
    async with aiohttp.ClientSession() as http, http.post(f"{app.url}{API}/ai/model/publish",
                         params={"family": family, "version": version},
                         data=tiny_model(scale),
                         headers={**admin.headers, "Content-Type": "application/octet-stream"}
                         ) as resp:
        assert resp.status == 201, await resp.text()


class LiveClient:
    """A node client kept running while the test acts, read line by line."""

    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc

    @classmethod
    async def start(cls, url: str, token: str, models: dict[str, str], stop: str) -> LiveClient:
        proc = await asyncio.create_subprocess_exec(
            "node", str(ROOT / "tests" / "js" / "model_update.mjs"), url, token,
            json.dumps(models), stop, stdout=asyncio.subprocess.PIPE, cwd=ROOT)
        return cls(proc)

    async def line(self) -> dict:
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), 30)
        assert raw, "the client exited early"
        return json.loads(raw)

    async def finish(self) -> dict:
        result = await self.line()
        await asyncio.wait_for(self.proc.wait(), 10)
        return result


async def test_client_holding_an_old_version_is_told_at_connect(sqlite_server):
    admin = await create_user(sqlite_server, is_admin=True)
    player = await create_user(sqlite_server)
    await publish(sqlite_server, admin, "pro", "pro_v1")
    await publish(sqlite_server, admin, "pro", "pro_v2", 2.0)
    await publish(sqlite_server, admin, "badugi", "badugi_v5")

    result = await run_node("model_update.mjs", sqlite_server.url, player.token,
                            json.dumps({"pro": "pro_v1", "badugi": "badugi_v5", "razz": "razz_v1"}))

    assert result.get("ready"), result
    assert [n["data"]["family"] for n in result["connect_notices"]] == ["pro"]
    notice = result["connect_notices"][0]
    assert notice["room"] == "models_pro" and notice["seq"] >= 2
    assert notice["data"]["version"] == "pro_v2" and notice["data"]["model_update_required"] is True


async def test_client_holding_current_versions_hears_nothing_at_connect(sqlite_server):
    admin = await create_user(sqlite_server, is_admin=True)
    player = await create_user(sqlite_server)
    await publish(sqlite_server, admin, "pro", "pro_v1")

    result = await run_node("model_update.mjs", sqlite_server.url, player.token,
                            json.dumps({"pro": "pro_v1"}))
    assert result.get("ready") and result["connect_notices"] == []


@pytest.mark.parametrize("models", [["pro"], {"pro": 3}, {"Bad Family": "x"},
                                    {f"f{i}": "v" for i in range(17)}])
async def test_malformed_models_declaration_is_refused_clearly(sqlite_server, models):
    player = await create_user(sqlite_server)
    result = await run_node("model_update.mjs", sqlite_server.url, player.token, json.dumps(models))
    assert result["connect_error"]["message"] == "bad_input", result
    assert "models" in result["connect_error"]["data"]["message"]
    assert len(sqlite_server.app[__import__("server").keys.REALTIME].registry) == 0


async def test_publish_and_rollback_reach_connected_clients_of_that_family_only(sqlite_server):
    admin = await create_user(sqlite_server, is_admin=True)
    alice, bob = await create_user(sqlite_server), await create_user(sqlite_server)
    pro, badugi = "pro" + uuid.uuid4().hex[:4], "badugi" + uuid.uuid4().hex[:4]
    await publish(sqlite_server, admin, pro, f"{pro}_v1")
    await publish(sqlite_server, admin, badugi, f"{badugi}_v1")

    pro_client = await LiveClient.start(sqlite_server.url, alice.token, {pro: f"{pro}_v1"},
                                        f"{pro}_v1")
    badugi_client = await LiveClient.start(sqlite_server.url, bob.token,
                                           {badugi: f"{badugi}_v1"}, f"{badugi}_v2")
    assert (await pro_client.line())["connect_notices"] == []
    assert (await badugi_client.line())["connect_notices"] == []

    await publish(sqlite_server, admin, pro, f"{pro}_v2", 2.0)
    await publish(sqlite_server, admin, badugi, f"{badugi}_v2", 2.0)
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sqlite_server.url}{API}/ai/model/rollback", headers=admin.headers,
                             json={"family": pro, "version": f"{pro}_v1"}) as resp:
            assert resp.status == 200

    pro_result = await pro_client.finish()
    assert "error" not in pro_result, pro_result
    pro_seen = pro_result["notices"]
    badugi_seen = (await badugi_client.finish())["notices"]
    assert [(n["data"]["version"], n["data"]["reason"]) for n in pro_seen] == [
        (f"{pro}_v2", "publish"), (f"{pro}_v1", "rollback")]
    assert all(n["room"] == f"models_{pro}" for n in pro_seen)
    assert [n["seq"] for n in pro_seen] == sorted(n["seq"] for n in pro_seen)
    assert [n["data"]["version"] for n in badugi_seen] == [f"{badugi}_v2"]


async def test_a_publish_on_one_instance_reaches_clients_on_another(
        start_app, make_settings, pg_url, redis_url, redis_prefix):
    a = await start_app(make_settings(database_url=pg_url, redis_url=redis_url,
                                      redis_prefix=redis_prefix, instance_id="a"))
    b = await start_app(make_settings(database_url=pg_url, redis_url=redis_url,
                                      redis_prefix=redis_prefix, instance_id="b"))
    admin, player = await create_user(a, is_admin=True), await create_user(b)
    family = "multihead" + uuid.uuid4().hex[:4]
    await publish(a, admin, family, f"{family}_v1")

    client = await LiveClient.start(b.url, player.token, {family: f"{family}_v1"}, f"{family}_v2")
    assert (await client.line())["connect_notices"] == []
    await publish(a, admin, family, f"{family}_v2", 2.0)

    result = await client.finish()
    assert [n["data"]["version"] for n in result["notices"]] == [f"{family}_v2"], result
