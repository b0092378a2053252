"""The OpenAPI document names what the routes really answer: real answers from a running app
are checked against the success schema the served document gives for their route, and the
bodies parsed by hand (sync push, history POST) are documented."""

from __future__ import annotations

import json
import uuid
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator

from tests.apiclient import api
from tests.factories import create_user
from tests.onnx_builders import tiny_model
from tests.tournament_kit import structure

API = "/api/v1"
PASSWORD = "correct horse battery"


async def served_spec(app) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(app.url + "/openapi.json") as resp:
        assert resp.status == 200
        return await resp.json()


class Contract:
    """Checks answers against the served document's success schemas."""

    def __init__(self, spec: dict[str, Any]):
        self.spec = spec
        self.checked: list[str] = []

    def operation(self, method: str, path: str) -> dict[str, Any]:
        return self.spec["paths"][API + path][method.lower()]

    def validator(self, method: str, path: str, status: int) -> Draft202012Validator:
        responses = self.operation(method, path)["responses"]
        assert str(status) in responses, f"{method} {path}: {status} is not documented"
        envelope = responses[str(status)]["content"]["application/json"]["schema"]
        data = envelope["properties"]["data"]
        assert "$ref" in data, f"{method} {path}: its data has no declared schema"
        # The document's own components resolve the $ref; date-time formats are checked too.
        return Draft202012Validator({**data, "components": self.spec["components"]},
                                    format_checker=Draft202012Validator.FORMAT_CHECKER)

    def check(self, method: str, path: str, answer: tuple[int, dict[str, Any]]) -> Any:
        status, body = answer
        assert 200 <= status < 300, (method, path, body)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in self.validator(method, path, status).iter_errors(body["data"])]
        assert not errors, f"{method} {path} answers outside its documented schema: {errors}"
        self.checked.append(f"{method} {path}")
        return body["data"]


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def test_real_answers_match_their_documented_schemas(server):
    contract = Contract(await served_spec(server))
    device = {"device_id": "phone-1", "device_name": "Phone", "platform": "ios"}
    login_name = f"u_{uuid.uuid4().hex[:10]}"

    # auth
    tokens = contract.check("POST", "/auth/signup", await api(server, "POST", "/auth/signup", json={
        "login": login_name, "password": PASSWORD, "nickname": "Ann", **device}))
    contract.check("POST", "/auth/login", await api(server, "POST", "/auth/login", json={
        "login": login_name, "password": PASSWORD, **device, "device_id": "laptop-1"}))
    tokens = contract.check("POST", "/auth/refresh", await api(
        server, "POST", "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}))
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    devices = contract.check("GET", "/auth/devices",
                             await api(server, "GET", "/auth/devices", headers=bearer))
    other = next(d for d in devices["devices"] if not d["current"])
    contract.check("POST", "/auth/devices/{id}/revoke", await api(
        server, "POST", f"/auth/devices/{other['id']}/revoke", headers=bearer))

    user = await create_user(server)
    # history: one record, then {records}, then the listing
    hand = {"hand_id": uid("h"), "game_type": "nlhe", "record_json": {"pot": 3}}
    contract.check("POST", "/history/{kind}",
                   await api(server, "POST", "/history/hand", user=user, json=hand))
    contract.check("POST", "/history/{kind}", await api(
        server, "POST", "/history/tournament", user=user, json={"records": [
            {"tournament_id": uid("t"), "result_json": {"prize": 1}, "rank": 2}]}))
    contract.check("POST", "/history/{kind}", await api(
        server, "POST", "/history/mixed", user=user,
        json={"record_id": uid("m"), "to_game": "stud", "record_json": {}}))
    for kind in ("hand", "tournament", "mixed"):
        page = contract.check("GET", "/history/{kind}",
                              await api(server, "GET", f"/history/{kind}", user=user))
        assert len(page["items"]) == 1

    # batch: one operation that works and one the server does not know
    contract.check("POST", "/batch", await api(server, "POST", "/batch", user=user, json={
        "operations": [{"id": "op-1", "op": "hand", "data": {**hand, "hand_id": uid("h")}},
                       {"id": "op-2", "op": "no_such_op", "data": {}}]}))

    # sync: pull everything, push a change, pull again
    pulled = contract.check("GET", "/sync/pull", await api(server, "GET", "/sync/pull", user=user))
    push = {"hands": {"created": [{"id": uid("w"), "game_type": "nlhe", "tournament_id": None,
                                   "record_json": json.dumps({"pot": 1})}],
                      "updated": [], "deleted": []}}
    contract.check("POST", "/sync/push", await api(
        server, "POST", f"/sync/push?last_pulled_at={pulled['timestamp']}", user=user, json=push))
    contract.check("GET", "/sync/pull", await api(
        server, "GET", f"/sync/pull?last_pulled_at={pulled['timestamp']}", user=user))

    # ratings, with a result the server holds
    rival = await create_user(server)
    source_id = uid("t")
    await server.services.ratings.apply_result("tournament", source_id,
                                               [(user.id, 1), (rival.id, 2)])
    contract.check("GET", "/rating/{user_id}",
                   await api(server, "GET", f"/rating/{user.id}", user=user))
    contract.check("GET", "/rating/{user_id}",
                   await api(server, "GET", f"/rating/{(await create_user(server)).id}",
                             user=await create_user(server, is_admin=True)))
    contract.check("GET", "/rating/{user_id}/history",
                   await api(server, "GET", f"/rating/{user.id}/history", user=user))
    contract.check("GET", "/rating/leaderboard",
                   await api(server, "GET", "/rating/leaderboard?kind=sr", user=user))
    contract.check("POST", "/rating/update", await api(server, "POST", "/rating/update", user=user,
                   json={"reason": "tournament", "source_id": source_id, "sr_after": 1.0}))

    # tournaments, and the room their creation logs to
    created = contract.check("POST", "/tournament/create", await api(
        server, "POST", "/tournament/create", user=user, json={
            "name": "Evening", "structure": structure([(10, 20, 0, "nlh"), (20, 40, 5, "nlh")]),
            "table_count": 1, "players": [{"player_id": "me", "user_id": user.id},
                                          {"player_id": "bot"}]}))
    tid = created["tournament_id"]
    await api(server, "POST", f"/tournament/{tid}/clock", user=user, json={"action": "start"})
    resumed = contract.check("GET", "/tournament/resume/{tournament_id}",
                             await api(server, "GET", f"/tournament/resume/{tid}", user=user))
    contract.check("GET", "/tournament/{tournament_id}/events",
                   await api(server, "GET", f"/tournament/{tid}/events", user=user))
    room = contract.check("GET", "/rooms/{room}/events",
                          await api(server, "GET", f"/rooms/{resumed['room']}/events", user=user))
    assert room["events"], "the clock start is logged to the tournament's room"

    # chat
    channel = f"user_{user.id}"
    await server.services.chat.send(user.id, channel, "note-1", "to myself")
    contract.check("GET", "/chat/{channel}/messages",
                   await api(server, "GET", f"/chat/{channel}/messages", user=user))

    # AI models
    admin = await create_user(server, is_admin=True)
    family = "f" + uuid.uuid4().hex[:8]
    async with aiohttp.ClientSession() as http, http.post(
            f"{server.url}{API}/ai/model/publish", data=tiny_model(),
            params={"family": family, "version": f"{family}_v1", "type": "pro"},
            headers={**admin.headers, "Content-Type": "application/octet-stream"}) as resp:
        contract.check("POST", "/ai/model/publish", (resp.status, await resp.json()))
    contract.check("GET", "/ai/model/latest",
                   await api(server, "GET", f"/ai/model/latest?family={family}", user=user))
    contract.check("GET", "/ai/model/{version}",
                   await api(server, "GET", f"/ai/model/{family}_v1", user=user))

    # Logout last: it ends the session the calls above used.
    contract.check("POST", "/auth/logout",
                   await api(server, "POST", "/auth/logout", headers=bearer))


async def test_documented_schemas_refuse_what_the_routes_do_not_answer(sqlite_server):
    contract = Contract(await served_spec(sqlite_server))
    validator = contract.validator("POST", "/sync/push", 200)
    assert validator.is_valid({"timestamp": 5, "changed": 1})
    assert not validator.is_valid({"timestamp": 5, "changed": 1, "extra": True})
    assert not validator.is_valid({"timestamp": "5", "changed": 1})
    signup = contract.operation("POST", "/auth/signup")["responses"]
    assert "201" in signup and "200" not in signup


def body_validator(spec: dict[str, Any], path: str) -> Draft202012Validator:
    body = spec["paths"][API + path]["post"]["requestBody"]["content"]["application/json"]
    return Draft202012Validator({**body["schema"], "components": spec["components"]})


@pytest.mark.parametrize("record", [
    {"hand_id": "h1", "game_type": "nlhe", "record_json": {}},
    {"tournament_id": "t1", "result_json": {}, "rank": 1},
    {"record_id": "m1", "to_game": "stud", "record_json": {}},
])
async def test_hand_written_bodies_are_documented(sqlite_server, record):
    spec = await served_spec(sqlite_server)
    history = body_validator(spec, "/history/{kind}")
    assert history.is_valid(record) and history.is_valid({"records": [record, record]})
    assert not history.is_valid({"records": [record], "extra": 1})
    assert not history.is_valid({"records": record})
    push = body_validator(spec, "/sync/push")
    assert push.is_valid({"hands": {"created": [{"id": "w1"}], "updated": [], "deleted": ["w2"]}})
    assert not push.is_valid({"hands": {"created": [], "moved": []}})
    assert not push.is_valid({"hands": {"deleted": [1]}})
