"""WatermelonDB sync rules, driven over HTTP like a client would (pull, push, conflicts, limits)."""

from __future__ import annotations

import json
import uuid

import aiohttp

from models.accounts import Device as DeviceRow
from models.accounts import User, UserSettings
from models.history import HandHistory, SyncClock
from models.realtime import RoomEvent
from tests.factories import create_user


def wid() -> str:
    return uuid.uuid4().hex[:16]


def hand_row(record_id: str | None = None, **overrides):
    row = {
        "id": record_id or wid(),
        "game_type": "nlhe",
        "tournament_id": None,
        "record_json": json.dumps({"pot": 10}),
        "_status": "created",
        "_changed": "",
    }
    row.update(overrides)
    return row


def changes(created=(), updated=(), deleted=(), table="hands"):
    return {table: {"created": list(created), "updated": list(updated), "deleted": list(deleted)}}


class Device:
    def __init__(self, server, user_id: int, device_id: str):
        self.server = server
        self.headers = {"Authorization": f"Bearer {server.access_token(user_id, device_id)}"}
        self.last_pulled_at: int | None = None

    async def pull(self, expect: int = 200, **params):
        query = {
            "last_pulled_at": str(self.last_pulled_at) if self.last_pulled_at else "null",
            "schema_version": "1",
            **params,
        }
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"{self.server.url}/api/v1/sync/pull", params=query, headers=self.headers
            ) as res,
        ):
            body = await res.json()
            assert res.status == expect, body
        if expect == 200:
            self.last_pulled_at = body["data"]["timestamp"]
            return body["data"]["changes"]
        return body

    async def push(self, body, expect: int = 200, last_pulled_at=None):
        lp = last_pulled_at if last_pulled_at is not None else self.last_pulled_at
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{self.server.url}/api/v1/sync/push",
                params={"last_pulled_at": str(lp)},
                data=json.dumps(body),
                headers={**self.headers, "Content-Type": "application/json"},
            ) as res,
        ):
            answer = await res.json()
            assert res.status == expect, answer
            return answer


async def device(server, user_id: int, device_id: str) -> Device:
    """A registered device of the user (tokens of unknown devices are refused)."""
    await DeviceRow.get_or_create(
        user_id=user_id, device_id=device_id, defaults={"name": device_id, "platform": "pwa"}
    )
    return Device(server, user_id, device_id)


async def two_devices(server):
    user = await create_user(server)
    return user, await device(server, user.id, "phone"), await device(server, user.id, "tablet")


async def test_first_sync_sends_live_rows_as_created_and_no_tombstones(server):
    _, phone, tablet = await two_devices(server)
    await phone.pull()
    keep, gone = hand_row(), hand_row()
    await phone.push(changes(created=[keep, gone]))
    await phone.pull()
    await phone.push(changes(deleted=[gone["id"]]))
    first = await tablet.pull()
    assert [r["id"] for r in first["hands"]["created"]] == [keep["id"]]
    assert first["hands"]["updated"] == [] and first["hands"]["deleted"] == []
    row = first["hands"]["created"][0]
    assert set(row) == {"id", "game_type", "tournament_id", "record_json"}  # no _status/_changed
    assert json.loads(row["record_json"]) == {"pot": 10}
    assert set(first) == {"hands", "tournament_results", "mixed_games", "settings", "profile"}


async def test_the_clock_is_never_zero_and_rises_with_every_change(server):
    _, phone, _ = await two_devices(server)
    await phone.pull()
    stamps = [phone.last_pulled_at]
    for _ in range(3):
        answer = await phone.push(changes(created=[hand_row()]))
        stamps.append(answer["data"]["timestamp"])
        await phone.pull()
        assert phone.last_pulled_at == stamps[-1]
    assert all(s > 0 for s in stamps) and stamps == sorted(set(stamps))


async def test_the_clock_keeps_rising_when_the_wall_clock_steps_back(server):
    _, phone, _ = await two_devices(server)
    await phone.pull()
    far_future = phone.last_pulled_at + 10**9
    await SyncClock.filter(id=1).update(value=far_future)  # as if the wall clock went back
    answer = await phone.push(changes(created=[hand_row()]), last_pulled_at=phone.last_pulled_at)
    assert answer["data"]["timestamp"] == far_future + 1


async def test_changes_are_classified_and_a_devices_own_push_is_not_echoed(server):
    _, phone, tablet = await two_devices(server)
    await phone.pull()
    await tablet.pull()
    a, b = hand_row(), hand_row()
    await phone.push(changes(created=[a, b]))
    assert (await phone.pull())["hands"] == {"created": [], "updated": [], "deleted": []}
    got = await tablet.pull()
    assert sorted(r["id"] for r in got["hands"]["created"]) == sorted([a["id"], b["id"]])
    await tablet.push(changes(updated=[{**a, "game_type": "plo"}], deleted=[b["id"]]))
    got = await phone.pull()
    assert [r["id"] for r in got["hands"]["updated"]] == [a["id"]]
    assert got["hands"]["updated"][0]["game_type"] == "plo"
    assert got["hands"]["deleted"] == [b["id"]] and got["hands"]["created"] == []
    assert (await tablet.pull())["hands"] == {"created": [], "updated": [], "deleted": []}


async def test_a_push_touching_a_row_changed_since_last_pull_fails_whole(server):
    user, phone, tablet = await two_devices(server)
    await phone.pull()
    shared = hand_row()
    await phone.push(changes(created=[shared]))
    await tablet.pull()
    await phone.pull()
    await phone.push(changes(updated=[{**shared, "game_type": "razz"}]))
    innocent = hand_row()
    answer = await tablet.push(
        changes(created=[innocent], updated=[{**shared, "game_type": "stud"}]), expect=409
    )
    assert answer["error"]["code"] == "sync_conflict"
    assert not await HandHistory.filter(user_id=user.id, hand_id=innocent["id"]).exists()
    assert (await HandHistory.get(user_id=user.id, hand_id=shared["id"])).game_type == "razz"
    # After pulling, the same push goes through.
    await tablet.pull()
    await tablet.push(changes(created=[innocent], updated=[{**shared, "game_type": "stud"}]))
    assert (await HandHistory.get(user_id=user.id, hand_id=shared["id"])).game_type == "stud"


async def test_created_that_exists_updates_and_deleted_that_is_missing_is_ignored(server):
    user, phone, _ = await two_devices(server)
    await phone.pull()
    row = hand_row()
    await phone.push(changes(created=[row]))
    await phone.pull()
    await phone.push(changes(created=[{**row, "game_type": "plo"}], deleted=[wid()]))
    stored = await HandHistory.filter(user_id=user.id)
    assert [(r.hand_id, r.game_type) for r in stored] == [(row["id"], "plo")]


async def test_a_repeated_push_after_a_lost_response_stores_nothing_twice(server):
    user, phone, _ = await two_devices(server)
    await phone.pull()
    body = changes(created=[hand_row(), hand_row()])
    for _ in range(3):  # the response was lost: the client still has the same lastPulledAt
        await phone.push(body)
    assert await HandHistory.filter(user_id=user.id).count() == 2


async def test_deleted_rows_are_not_resurrected_by_a_stale_update(server):
    user, phone, tablet = await two_devices(server)
    await phone.pull()
    row = hand_row()
    await phone.push(changes(created=[row]))
    await tablet.pull()
    await phone.pull()
    await phone.push(changes(deleted=[row["id"]]))
    await tablet.pull()
    await tablet.push(changes(updated=[{**row, "game_type": "plo"}]))
    stored = await HandHistory.get(user_id=user.id, hand_id=row["id"])
    assert stored.deleted and stored.game_type == "nlhe"


async def test_rows_are_scoped_to_their_user(server):
    alice, alice_phone, _ = await two_devices(server)
    bob, bob_phone, _ = await two_devices(server)
    await alice_phone.pull()
    await bob_phone.pull()
    row = hand_row()
    await alice_phone.push(changes(created=[row]))
    # Bob's update and delete of Alice's id touch only his own namespace.
    await bob_phone.push(changes(updated=[{**row, "game_type": "plo"}]))
    await bob_phone.pull()
    await bob_phone.push(changes(deleted=[row["id"]]))
    alices = await HandHistory.get(user_id=alice.id, hand_id=row["id"])
    assert alices.game_type == "nlhe" and not alices.deleted
    alice_fresh = await (await device(server, alice.id, "fresh")).pull()
    assert [r["game_type"] for r in alice_fresh["hands"]["created"]] == ["nlhe"]
    assert (await (await device(server, bob.id, "fresh")).pull())["hands"]["created"] == []


async def test_bad_pushes_are_refused_whole_with_a_clear_error(server):
    user, phone, _ = await two_devices(server)
    await phone.pull()
    good = hand_row()
    cases = {
        "unknown_table": {
            "users": {"created": [], "updated": [], "deleted": []},
            **changes(created=[good]),
        },
        "unknown_column": changes(created=[good, hand_row(password_hash="x")]),
        "unsafe_id": changes(created=[good, hand_row("../../x")]),
        "duplicate_id": changes(created=[good], updated=[good]),
        "invalid_value": changes(created=[good, hand_row(record_json="[1,2]")]),
    }
    for code, body in cases.items():
        answer = await phone.push(body, expect=422)
        assert answer["error"]["code"] == code, (code, answer)
    wrong_types = [
        changes(created=[good, hand_row(game_type=5)]),
        changes(created=[good, "x"]),
        {"hands": []},
        [1],
        changes(created=[good], deleted=[7]),
    ]
    for body in wrong_types:
        await phone.push(body, expect=422)
    too_many = changes(
        created=[hand_row() for _ in range(phone.server.settings.sync_push_max_records + 1)]
    )
    assert (await phone.push(too_many, expect=422))["error"]["code"] == "push_too_large"
    await phone.push(
        changes(created=[good]), expect=400, last_pulled_at=phone.last_pulled_at + 10**12
    )
    await phone.push(changes(created=[good]), expect=422, last_pulled_at="soon")
    assert await HandHistory.filter(user_id=user.id).count() == 0
    bad_pulls = [
        ({"last_pulled_at": "x"}, 422),
        ({"bogus": "1"}, 422),
        ({"migration": "{"}, 400),
        ({"migration": json.dumps({"from": 1, "tables": ["users"], "columns": []})}, 422),
        ({"last_pulled_at": str(phone.last_pulled_at + 10**12)}, 400),
    ]
    for params, expected in bad_pulls:
        await phone.pull(expect=expected, **params)


async def test_a_migration_pull_resends_the_tables_the_client_just_added(server):
    _, phone, _ = await two_devices(server)
    await phone.pull()
    row = hand_row()
    await phone.push(changes(created=[row]))
    await phone.pull()
    got = await phone.pull(migration=json.dumps({"from": 1, "tables": ["hands"], "columns": []}))
    assert [r["id"] for r in got["hands"]["created"]] == [row["id"]]


async def test_sync_needs_a_valid_token(server):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/api/v1/sync/pull") as res:
            assert res.status == 401
        async with http.post(f"{server.url}/api/v1/sync/push?last_pulled_at=1", json={}) as res:
            assert res.status == 401


async def test_an_update_of_a_missing_row_creates_it_only_when_complete(server):
    user, phone, _ = await two_devices(server)
    await phone.pull()
    partial = {"id": wid(), "game_type": "nlhe"}
    answer = await phone.push(changes(created=[hand_row()], updated=[partial]), expect=422)
    assert answer["error"]["code"] == "missing_column"
    assert await HandHistory.filter(user_id=user.id).count() == 0
    complete = hand_row()
    await phone.push(changes(updated=[complete]))
    assert await HandHistory.filter(user_id=user.id, hand_id=complete["id"]).exists()


# --- settings: one record per user, id = the user id ---------------------------------------

SETTINGS_COLUMNS = {"id", "se_on", "bgm_on", "theme", "card_skin", "version"}


async def settings_user(server):
    user, phone, tablet = await two_devices(server)
    await UserSettings.create(user_id=user.id)
    return user, phone, tablet


async def rest_settings(server, user, **change):
    async with (
        aiohttp.ClientSession() as http,
        http.patch(
            f"{server.url}/api/v1/user/{user.id}",
            json={"settings": change},
            headers=user.headers,
        ) as res,
    ):
        return res.status, await res.json()


async def settings_events(user_id):
    return await RoomEvent.filter(room=f"user_{user_id}", event="settings:update").order_by("seq")


async def test_settings_are_pulled_with_server_clock_stamps(server):
    user, phone, tablet = await settings_user(server)
    first = await phone.pull()
    assert first["settings"] == {
        "created": [{"id": str(user.id), "se_on": True, "bgm_on": True, "theme": "classic",
                     "card_skin": "standard", "version": 1}],
        "updated": [], "deleted": [],
    }
    status, res = await rest_settings(server, user, version=1, theme="dark")
    assert status == 200, res
    row = await UserSettings.get(user_id=user.id)
    assert phone.last_pulled_at < row.last_modified <= (await SyncClock.get(id=1)).value
    got = await phone.pull()
    assert got["settings"]["created"] == [] and got["settings"]["deleted"] == []
    assert [(r["id"], r["theme"], r["version"]) for r in got["settings"]["updated"]] == [
        (str(user.id), "dark", 2)]
    assert phone.last_pulled_at >= row.last_modified
    # A queued (batch) change is stamped the same way.
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.url}/api/v1/batch", headers=user.headers, json={
            "operations": [{"id": "q1", "op": "settings", "data": {"se_on": False}}]}) as res,
    ):
        assert (await res.json())["data"]["results"][0]["status"] == "ok"
    got = await phone.pull()
    assert [(r["se_on"], r["version"]) for r in got["settings"]["updated"]] == [(False, 3)]
    assert set((await tablet.pull())["settings"]["created"][0]) == SETTINGS_COLUMNS


async def test_a_push_updates_the_callers_settings_for_every_device(server):
    user, phone, tablet = await settings_user(server)
    await phone.pull()
    await tablet.pull()
    record = {"id": str(user.id), "se_on": True, "bgm_on": False, "theme": "light",
              "card_skin": "gold", "version": 99, "_status": "updated", "_changed": "theme"}
    answer = await phone.push(changes(updated=[record], table="settings"))
    assert answer["data"]["changed"] == 1
    row = await UserSettings.get(user_id=user.id)
    assert (row.theme, row.bgm_on, row.card_skin) == ("light", False, "gold")
    assert row.version == 2  # pushed versions are ignored: the server counts
    assert (row.last_modified, row.changed_by_device) == (answer["data"]["timestamp"], "phone")
    events = await settings_events(user.id)
    assert [(e.payload["theme"], e.payload["version"], e.payload["device_id"]) for e in events] \
        == [("light", 2, "phone")]
    assert (await phone.pull())["settings"]["updated"] == []  # not echoed to the pusher
    got = (await tablet.pull())["settings"]["updated"]
    assert [(r["theme"], r["version"]) for r in got] == [("light", 2)]
    # A REST write against the version before the push is now stale.
    status, res = await rest_settings(server, user, version=1, theme="dark")
    assert status == 409, res
    # `created` for the own record (a device that made it before its first pull) updates it.
    await phone.pull()
    await phone.push(changes(created=[{"id": str(user.id), "theme": "dark"}], table="settings"))
    assert (await UserSettings.get(user_id=user.id)).theme == "dark"


async def test_a_push_over_a_newer_settings_change_is_a_conflict(server):
    user, phone, _ = await settings_user(server)
    await phone.pull()
    status, _ = await rest_settings(server, user, version=1, theme="dark")
    assert status == 200
    answer = await phone.push(
        changes(updated=[{"id": str(user.id), "theme": "light"}], table="settings"), expect=409)
    assert answer["error"]["code"] == "sync_conflict"
    assert (await UserSettings.get(user_id=user.id)).theme == "dark"
    await phone.pull()
    await phone.push(changes(updated=[{"id": str(user.id), "theme": "light"}], table="settings"))
    assert (await UserSettings.get(user_id=user.id)).theme == "light"


async def test_bad_settings_pushes_change_nothing(server):
    user, phone, _ = await settings_user(server)
    other, _, _ = await settings_user(server)
    await phone.pull()
    before = {u: await UserSettings.get(user_id=u).values() for u in (user.id, other.id)}
    own = str(user.id)
    hand = hand_row()

    def with_hand(settings_changes):
        return {**changes(created=[hand]), "settings": settings_changes}

    cases = {
        "unknown_column": {"updated": [{"id": own, "theme": "dark", "user_id": other.id}]},
        "unknown_record": {"updated": [{"id": str(other.id), "theme": "dark"}]},
        "not_deletable": {"deleted": [own]},
        "invalid_value": {"updated": [{"id": own, "theme": "neon"}]},
    }
    for code, body in cases.items():
        answer = await phone.push(with_hand(body), expect=422)
        assert answer["error"]["code"] == code, (code, answer)
    for bad in ({"se_on": "yes"}, {"card_skin": "Gold Leaf"}, {"bgm_on": None}):
        await phone.push(with_hand({"updated": [{"id": own, **bad}]}), expect=422)
    await phone.push(with_hand({"created": [{"id": str(other.id), "theme": "dark"}]}), expect=422)
    for u in (user.id, other.id):
        assert await UserSettings.get(user_id=u).values() == before[u]
    assert not await HandHistory.filter(user_id=user.id).exists()
    assert await settings_events(user.id) == [] and await settings_events(other.id) == []


# --- profile: one record per user, id = the user id ----------------------------------------

PROFILE_COLUMNS = {"id", "nickname", "avatar", "country", "version"}


async def rest_profile(server, user, **change):
    async with (
        aiohttp.ClientSession() as http,
        http.patch(f"{server.url}/api/v1/user/{user.id}", json=change, headers=user.headers) as res,
    ):
        return res.status, await res.json()


async def profile_events(user_id):
    return await RoomEvent.filter(room=f"user_{user_id}", event="profile:update").order_by("seq")


async def test_the_profile_is_pulled_with_server_clock_stamps(server):
    user, phone, tablet = await two_devices(server)
    first = await phone.pull()
    assert first["profile"] == {
        "created": [{"id": str(user.id), "nickname": "player", "avatar": None, "country": None,
                     "version": 1}],
        "updated": [], "deleted": [],
    }
    status, res = await rest_profile(server, user, version=1, nickname=" Ace ", country="fr")
    assert status == 200, res
    row = await User.get(id=user.id)
    assert phone.last_pulled_at < row.last_modified <= (await SyncClock.get(id=1)).value
    assert row.changed_by_device == ""  # a REST change reaches every device, its own too
    got = await phone.pull()
    assert got["profile"]["created"] == [] and got["profile"]["deleted"] == []
    assert got["profile"]["updated"] == [{"id": str(user.id), "nickname": "Ace", "avatar": None,
                                          "country": "FR", "version": 2}]
    assert phone.last_pulled_at >= row.last_modified
    assert (await phone.pull())["profile"]["updated"] == []
    # A settings-only change leaves the profile record alone.
    status, _ = await rest_settings(server, user, version=1, theme="dark")
    assert status == 200
    assert (await phone.pull())["profile"]["updated"] == []
    assert set((await tablet.pull())["profile"]["created"][0]) == PROFILE_COLUMNS


async def test_a_push_updates_the_callers_profile_for_every_device(server):
    user, phone, tablet = await two_devices(server)
    await phone.pull()
    await tablet.pull()
    record = {"id": str(user.id), "nickname": "River", "avatar": "fox_2", "country": "JP",
              "version": 99, "_status": "updated", "_changed": "nickname,avatar,country"}
    answer = await phone.push(changes(updated=[record], table="profile"))
    assert answer["data"]["changed"] == 1
    row = await User.get(id=user.id)
    assert (row.nickname, row.avatar, row.country) == ("River", "fox_2", "JP")
    assert row.version == 2  # pushed versions are ignored: the server counts
    assert (row.last_modified, row.changed_by_device) == (answer["data"]["timestamp"], "phone")
    events = await profile_events(user.id)
    assert [(e.payload["nickname"], e.payload["version"], e.payload["device_id"])
            for e in events] == [("River", 2, "phone")]
    assert (await phone.pull())["profile"]["updated"] == []  # not echoed to the pusher
    got = (await tablet.pull())["profile"]["updated"]
    assert [(r["nickname"], r["country"], r["version"]) for r in got] == [("River", "JP", 2)]
    # A REST write against the version before the push is now stale.
    status, res = await rest_profile(server, user, version=1, nickname="Late")
    assert status == 409, res
    # Null (or empty) clears the optional columns; `created` for the own record updates it.
    await phone.pull()
    await phone.push(changes(created=[{"id": str(user.id), "avatar": None, "country": ""}],
                             table="profile"))
    row = await User.get(id=user.id)
    assert (row.nickname, row.avatar, row.country, row.version) == ("River", None, None, 3)


async def test_a_push_over_a_newer_profile_change_is_a_conflict(server):
    user, phone, _ = await two_devices(server)
    await phone.pull()
    status, _ = await rest_profile(server, user, version=1, nickname="Rest")
    assert status == 200
    answer = await phone.push(
        changes(updated=[{"id": str(user.id), "nickname": "Push"}], table="profile"), expect=409)
    assert answer["error"]["code"] == "sync_conflict"
    assert (await User.get(id=user.id)).nickname == "Rest"
    assert len(await profile_events(user.id)) == 1  # only the REST change was announced
    await phone.pull()
    await phone.push(changes(updated=[{"id": str(user.id), "nickname": "Push"}], table="profile"))
    assert (await User.get(id=user.id)).nickname == "Push"


async def test_bad_profile_pushes_change_nothing(server):
    user, phone, _ = await two_devices(server)
    other = await create_user(server)
    await phone.pull()
    before = {u: await User.get(id=u).values() for u in (user.id, other.id)}
    own = str(user.id)
    hand = hand_row()

    def with_hand(profile_changes):
        return {**changes(created=[hand]), "profile": profile_changes}

    cases = {
        "unknown_column": {"updated": [{"id": own, "nickname": "x", "is_admin": True}]},
        "unknown_record": {"updated": [{"id": str(other.id), "nickname": "Mallory"}]},
        "not_deletable": {"deleted": [own]},
        "invalid_value": {"updated": [{"id": own, "country": "ZZ"}]},
    }
    for code, body in cases.items():
        answer = await phone.push(with_hand(body), expect=422)
        assert answer["error"]["code"] == code, (code, answer)
    assert "country" in answer["error"]["message"]
    for bad in ({"nickname": ""}, {"nickname": "   "}, {"nickname": None}, {"nickname": 7},
                {"nickname": "x" * 33}, {"nickname": "a\u0007b"}, {"avatar": "http://x.test/a.png"},
                {"avatar": "Big Fox"}, {"country": "FRA"}, {"country": 33}, {"login": "taken"},
                # REST would store these trimmed / upper-cased: the pusher would keep the raw.
                {"nickname": " River "}, {"country": "jp"}):
        await phone.push(with_hand({"updated": [{"id": own, **bad}]}), expect=422)
    await phone.push(with_hand({"created": [{"id": str(other.id), "nickname": "M"}]}),
                     expect=422)
    for u in (user.id, other.id):
        assert await User.get(id=u).values() == before[u]
    assert not await HandHistory.filter(user_id=user.id).exists()
    assert await profile_events(user.id) == [] and await profile_events(other.id) == []
