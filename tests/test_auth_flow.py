"""Signup, login, logout and devices through the REST API, on SQLite and PostgreSQL."""

import time

import bcrypt
import pytest

from models.accounts import Device, RefreshToken, User, UserSettings
from tests.accounts_kit import PASSWORD, call, device, login, signup, unique_login


async def test_signup_returns_a_working_pair_and_stores_only_hashes(server):
    name, data = await signup(server)

    assert set(data) >= {"access_token", "refresh_token", "user_id", "expires_in"}
    assert 890 <= data["expires_in"] <= 900
    claims = server.services.tokens.verify_access(data["access_token"])
    assert (claims.user_id, claims.device_id) == (data["user_id"], "phone-1")
    user = await User.get(id=data["user_id"])
    assert user.login == name and user.password_hash.startswith("$2")
    assert bcrypt.checkpw(PASSWORD.encode(), user.password_hash.encode())
    assert await UserSettings.filter(user_id=user.id).count() == 1
    tokens = await RefreshToken.filter(user_id=user.id)
    assert len(tokens) == 1 and data["refresh_token"] not in tokens[0].token_hash
    assert len(tokens[0].token_hash) == 64
    me = await call(server, "GET", "/auth/devices", token=data["access_token"])
    assert me.status == 200
    assert [(d["device_id"], d["platform"], d["active"], d["current"])
            for d in me.data["devices"]] == [("phone-1", "ios", True, True)]


async def test_the_hash_uses_the_configured_cost(sqlite_server):
    _, data = await signup(sqlite_server)
    user = await User.get(id=data["user_id"])
    assert user.password_hash.startswith("$2b$04$")  # tests run at cost 4


async def test_login_is_case_insensitive_on_the_login_and_names_the_device(server):
    name, data = await signup(server)
    reply = await login(server, name.upper(), device_id="laptop-7")
    assert reply.status == 200, reply.body
    assert reply.data["user_id"] == data["user_id"]
    assert reply.headers["Cache-Control"] == "no-store"
    devices = await Device.filter(user_id=data["user_id"]).order_by("id").values_list("device_id", flat=True)
    assert devices == ["phone-1", "laptop-7"]


async def test_taken_login_is_a_conflict_and_creates_nothing(server):
    name, _ = await signup(server)
    before = await User.all().count()
    reply = await call(server, "POST", "/auth/signup", json={
        "login": name, "password": PASSWORD, "nickname": "Bob", **device()})
    assert (reply.status, reply.code) == (409, "conflict")
    assert await User.all().count() == before


async def test_password_over_72_bytes_is_refused_at_signup_with_a_clear_error(server):
    name = unique_login()
    reply = await call(server, "POST", "/auth/signup", json={
        "login": name, "password": "é" * 37, "nickname": "Ada", **device()})  # 74 bytes
    assert (reply.status, reply.code) == (422, "validation_failed")
    assert "72 bytes" in reply.body["error"]["message"]
    assert reply.body["error"]["details"][0]["loc"] == "password"
    assert not await User.filter(login=name).exists()


async def test_password_of_exactly_72_bytes_works(server):
    password = "a" * 72
    name, _ = await signup(server, password=password)
    assert (await login(server, name, password=password)).status == 200
    # bcrypt ignores byte 73 on: a longer password must not log in as the 72-byte one.
    longer = await login(server, name, password=password + "b")
    assert (longer.status, longer.code) == (401, "bad_credentials")


@pytest.mark.parametrize("password", ["wrong password", "x" * 100])
async def test_wrong_password_is_bad_credentials(server, password):
    name, _ = await signup(server)
    reply = await login(server, name, password=password)
    assert (reply.status, reply.code) == (401, "bad_credentials")


async def test_unknown_login_looks_like_a_wrong_password(server):
    reply = await login(server, unique_login())
    assert (reply.status, reply.code) == (401, "bad_credentials")


async def test_a_factory_user_without_a_password_cannot_log_in(server):
    from tests.factories import create_user

    user = await create_user(server)
    reply = await login(server, user.user.login, password="!unusable")
    assert (reply.status, reply.code) == (401, "bad_credentials")


@pytest.mark.parametrize("name, body", [
    ("extra key", {"is_admin": True}),
    ("short login", {"login": "ab"}),
    ("login with spaces", {"login": "a b c"}),
    ("bad platform", {"platform": "toaster"}),
    ("device id with slash", {"device_id": "a/b"}),
    ("long device id", {"device_id": "d" * 65}),
    ("short password", {"password": "short"}),
    ("empty nickname", {"nickname": "   "}),
    ("control char in nickname", {"nickname": "a\u0000b"}),
    ("long nickname", {"nickname": "n" * 33}),
    ("password not a string", {"password": 12345678}),
])
async def test_bad_signup_input_is_refused_and_creates_nothing(server, name, body):
    full = {"login": unique_login(), "password": PASSWORD, "nickname": "Ada", **device(), **body}
    before = await User.all().count()
    reply = await call(server, "POST", "/auth/signup", json=full)
    assert (reply.status, reply.code) == (422, "validation_failed"), name
    assert await User.all().count() == before


async def test_malformed_json_is_bad_input(sqlite_server):
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.post(sqlite_server.url + "/api/v1/auth/login", data=b"{nope",
                             headers={"Content-Type": "application/json"}) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"]["code"] == "bad_input"


async def test_logout_ends_the_device_session_at_once(server):
    name, data = await signup(server)
    other = (await login(server, name, device_id="tablet")).data
    reply = await call(server, "POST", "/auth/logout", token=data["access_token"])
    assert reply.status == 200

    # The logged-out device's access token and refresh token are dead...
    dead = await call(server, "GET", "/auth/devices", token=data["access_token"])
    assert (dead.status, dead.code) == (401, "session_revoked")
    refresh = await call(server, "POST", "/auth/refresh", json={"refresh_token": data["refresh_token"]})
    assert refresh.status == 401
    # ...the other device is untouched and sees the first one as inactive.
    listing = await call(server, "GET", "/auth/devices", token=other["access_token"])
    assert {d["device_id"]: d["active"] for d in listing.data["devices"]} == {
        "phone-1": False, "tablet": True}
    # Logging in again on that device works (even with the dead token still in the header).
    again = await login(server, name, device_id="phone-1",
                        headers={"Authorization": f"Bearer {data['access_token']}"})
    assert again.status == 200, again.body
    assert (await call(server, "GET", "/auth/devices", token=again.data["access_token"])).status == 200
    assert (await call(server, "GET", "/auth/devices", token=data["access_token"])).status == 401


async def test_revoke_a_device_kills_its_tokens_but_not_the_callers(server):
    name, phone = await signup(server)
    tablet = (await login(server, name, device_id="tablet")).data
    listing = await call(server, "GET", "/auth/devices", token=phone["access_token"])
    tablet_pk = next(d["id"] for d in listing.data["devices"] if d["device_id"] == "tablet")

    reply = await call(server, "POST", f"/auth/devices/{tablet_pk}/revoke", token=phone["access_token"])
    assert reply.status == 200, reply.body
    assert (await call(server, "GET", "/auth/devices", token=tablet["access_token"])).code == "session_revoked"
    assert (await call(server, "POST", "/auth/refresh",
                       json={"refresh_token": tablet["refresh_token"]})).status == 401
    assert (await call(server, "GET", "/auth/devices", token=phone["access_token"])).status == 200


@pytest.mark.parametrize("path", ["/auth/devices/abc/revoke", "/auth/devices/-1/revoke",
                                  "/auth/devices/99999999999999999999/revoke"])
async def test_revoke_with_a_malformed_id_is_bad_input(sqlite_server, path):
    _, data = await signup(sqlite_server)
    reply = await call(sqlite_server, "POST", path, token=data["access_token"])
    assert (reply.status, reply.code) == (400, "bad_input")


@pytest.mark.parametrize("method, path", [("GET", "/auth/devices"), ("POST", "/auth/logout"),
                                          ("POST", "/auth/devices/1/revoke")])
async def test_session_routes_need_a_bearer_token(sqlite_server, method, path):
    reply = await call(sqlite_server, method, path)
    assert (reply.status, reply.code) == (401, "unauthorized")


async def test_expired_access_token_is_auth_expired(sqlite_server):
    _, data = await signup(sqlite_server)
    old, _ = sqlite_server.services.tokens.issue_access(data["user_id"], "phone-1",
                                                        now=time.time() - 3600)
    reply = await call(sqlite_server, "GET", "/auth/devices", token=old)
    assert (reply.status, reply.code) == (401, "auth_expired")


async def test_concurrent_logins_on_a_new_device_register_it_once(server):
    import asyncio

    name, data = await signup(server)
    replies = await asyncio.gather(*(login(server, name, device_id="new-laptop") for _ in range(3)))
    assert [r.status for r in replies] == [200] * 3, [r.body for r in replies]
    assert await Device.filter(user_id=data["user_id"], device_id="new-laptop").count() == 1
