"""Profile and settings: validation, versions (stale write → 409, nothing changed), events."""

import pytest

from models.accounts import User, UserSettings
from models.realtime import RoomEvent
from tests.accounts_kit import call, signup


async def me(app):
    _, data = await signup(app)
    return data["user_id"], data["access_token"]


async def test_get_own_profile_has_settings_and_versions(server):
    user_id, token = await me(server)
    reply = await call(server, "GET", f"/user/{user_id}", token=token)
    assert reply.status == 200
    assert reply.data["nickname"] == "Ada" and reply.data["version"] == 1
    assert reply.data["settings"] == {"se_on": True, "bgm_on": True, "theme": "classic",
                                      "card_skin": "standard", "version": 1}


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_profile_change_bumps_the_version_and_publishes_to_the_users_room(server, method):
    user_id, token = await me(server)
    reply = await call(server, method, f"/user/{user_id}", token=token, json={
        "version": 1, "nickname": " Grace ", "country": "jp", "avatar": "https://cdn.example/a.png"})
    assert reply.status == 200, reply.body
    assert (reply.data["nickname"], reply.data["country"], reply.data["version"]) == ("Grace", "JP", 2)
    events = await RoomEvent.filter(room=f"user_{user_id}").order_by("seq")
    assert [e.event for e in events] == ["profile:update"]
    assert events[0].payload["version"] == 2 and events[0].payload["device_id"] == "phone-1"
    assert events[0].payload["nickname"] == "Grace"


async def test_settings_change_is_versioned_separately(server):
    user_id, token = await me(server)
    reply = await call(server, "POST", f"/user/{user_id}", token=token,
                       json={"settings": {"version": 1, "theme": "dark", "bgm_on": False}})
    assert reply.status == 200, reply.body
    assert reply.data["settings"] == {"se_on": True, "bgm_on": False, "theme": "dark",
                                      "card_skin": "standard", "version": 2}
    assert reply.data["version"] == 1
    event = await RoomEvent.get(room=f"user_{user_id}")
    assert event.event == "settings:update" and event.payload["version"] == 2
    assert event.payload["theme"] == "dark"


async def test_null_clears_avatar_and_country(server):
    user_id, token = await me(server)
    await call(server, "POST", f"/user/{user_id}", token=token,
               json={"version": 1, "country": "FR", "avatar": "fox_02"})
    reply = await call(server, "POST", f"/user/{user_id}", token=token,
                       json={"version": 2, "country": None, "avatar": None})
    assert reply.status == 200 and (reply.data["country"], reply.data["avatar"]) == (None, None)


async def test_stale_version_is_a_conflict_and_changes_nothing(server):
    user_id, token = await me(server)
    assert (await call(server, "POST", f"/user/{user_id}", token=token,
                       json={"version": 1, "nickname": "First"})).status == 200
    stale = await call(server, "POST", f"/user/{user_id}", token=token, json={
        "version": 1, "nickname": "Second", "settings": {"version": 1, "theme": "dark"}})
    assert (stale.status, stale.code) == (409, "conflict")
    assert stale.body["error"]["details"] == {"current_version": 2}
    user = await User.get(id=user_id)
    settings = await UserSettings.get(user_id=user_id)
    assert (user.nickname, user.version, settings.theme, settings.version) == ("First", 2, "classic", 1)
    assert await RoomEvent.filter(room=f"user_{user_id}").count() == 1


async def test_stale_settings_version_rolls_back_a_good_profile_part(server):
    user_id, token = await me(server)
    reply = await call(server, "POST", f"/user/{user_id}", token=token, json={
        "version": 1, "nickname": "Kept?", "settings": {"version": 9, "theme": "dark"}})
    assert (reply.status, reply.code) == (409, "conflict")
    user = await User.get(id=user_id)
    assert (user.nickname, user.version) == ("Ada", 1)
    assert await RoomEvent.filter(room=f"user_{user_id}").count() == 0


async def test_concurrent_writes_with_one_version_have_one_winner(server):
    import asyncio

    user_id, token = await me(server)
    replies = await asyncio.gather(*(
        call(server, "PATCH", f"/user/{user_id}", token=token,
             json={"settings": {"version": 1, "card_skin": f"skin{i}"}}) for i in range(5)))
    assert sorted(r.status for r in replies) == [200, 409, 409, 409, 409]
    assert (await UserSettings.get(user_id=user_id)).version == 2


@pytest.mark.parametrize("name, body", [
    ("unknown field", {"version": 1, "is_admin": True}),
    ("rating is not writable", {"version": 1, "sr": 3000}),
    ("nothing to change", {"version": 1}),
    ("profile change without version", {"nickname": "x"}),
    ("version zero", {"version": 0, "nickname": "x"}),
    ("version not an int", {"version": "1", "nickname": "x"}),
    ("null nickname", {"version": 1, "nickname": None}),
    ("long nickname", {"version": 1, "nickname": "n" * 33}),
    ("not an ISO country", {"version": 1, "country": "XX"}),
    ("three-letter country", {"version": 1, "country": "JPN"}),
    ("http avatar", {"version": 1, "avatar": "http://evil.example/a.png"}),
    ("javascript avatar", {"version": 1, "avatar": "javascript:alert(1)"}),
    ("long avatar", {"version": 1, "avatar": "https://" + "a" * 300}),
    ("unknown theme", {"settings": {"version": 1, "theme": "neon"}}),
    ("se_on as string", {"settings": {"version": 1, "se_on": "yes"}}),
    ("se_on as int", {"settings": {"version": 1, "se_on": 1}}),
    ("bad card skin", {"settings": {"version": 1, "card_skin": "../../etc"}}),
    ("settings without version", {"settings": {"theme": "dark"}}),
    ("settings extra key", {"settings": {"version": 1, "theme": "dark", "volume": 3}}),
    ("not an object", ["version", 1]),
])
async def test_bad_profile_input_is_refused_and_changes_nothing(server, name, body):
    user_id, token = await me(server)
    reply = await call(server, "POST", f"/user/{user_id}", token=token, json=body)
    assert (reply.status, reply.code) == (422, "validation_failed"), name
    user = await User.get(id=user_id)
    settings = await UserSettings.get(user_id=user_id)
    assert (user.version, settings.version) == (1, 1)


async def test_malformed_user_id_is_bad_input(sqlite_server):
    _, token = await me(sqlite_server)
    for path in ("/user/abc", "/user/1.5", "/user/%C2%B2"):
        reply = await call(sqlite_server, "GET", path, token=token)
        assert (reply.status, reply.code) == (400, "bad_input"), path


async def test_a_factory_user_without_a_settings_row_gets_defaults(server):
    from tests.factories import create_user

    user = await create_user(server)
    reply = await call(server, "GET", f"/user/{user.id}", token=user.token)
    assert reply.status == 200 and reply.data["settings"]["version"] == 1
