"""POST /batch: the offline queue, applied in order, answered per item, safe to resend."""

from __future__ import annotations

import asyncio
import json
import uuid

import aiohttp

from models.accounts import UserSettings
from models.ai import RlBuffer
from models.history import HandHistory, MixedGameHistory, TournamentHistory
from models.realtime import RoomEvent
from tests.factories import create_user


def uid(prefix: str = "x") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


async def send(server, body, headers):
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.url}/api/v1/batch", json=body, headers=headers) as res,
    ):
        return res.status, await res.json()


def queue():
    tournament = uid("t")
    return [
        {
            "id": "op-1",
            "op": "hand",
            "data": {
                "hand_id": uid("h"),
                "game_type": "nlhe",
                "tournament_id": tournament,
                "record_json": {"pot": 1},
            },
        },
        {
            "id": "op-2",
            "op": "tournament",
            "data": {"tournament_id": tournament, "result_json": {"prize": 10}, "rank": 4},
        },
        {
            "id": "op-3",
            "op": "mixed",
            "data": {"record_id": uid("m"), "to_game": "stud", "record_json": {"level": 2}},
        },
        {
            "id": "op-4",
            "op": "hand",
            "data": {"hand_id": uid("h"), "game_type": "plo", "record_json": {"pot": 2}},
        },
    ]


async def counts(user_id):
    return (
        await HandHistory.filter(user_id=user_id).count(),
        await TournamentHistory.filter(user_id=user_id).count(),
        await MixedGameHistory.filter(user_id=user_id).count(),
    )


async def test_the_same_batch_sent_three_times_is_stored_once(server):
    user = await create_user(server)
    operations = queue()
    answers = [await send(server, {"operations": operations}, user.headers) for _ in range(3)]
    assert all(status == 200 for status, _ in answers), answers
    results = answers[0][1]["data"]["results"]
    assert [r["id"] for r in results] == ["op-1", "op-2", "op-3", "op-4"]
    assert all(r["status"] == "ok" for r in results), results
    assert results[0]["data"]["hand_id"] == operations[0]["data"]["hand_id"]
    assert answers[1][1] == answers[0][1] == answers[2][1]
    assert await counts(user.id) == (2, 1, 1)


async def test_items_are_answered_one_by_one_and_a_bad_item_spoils_only_itself(server):
    user = await create_user(server)
    operations = queue()
    stored = operations[0]["data"]
    operations.insert(
        1,
        {
            "id": "bad-type",
            "op": "hand",
            "data": {**stored, "hand_id": uid("h"), "record_json": [1]},
        },
    )
    operations.insert(
        2, {"id": "clash", "op": "hand", "data": {**stored, "record_json": {"pot": 999}}}
    )
    operations.append({"id": "later", "op": "settings", "data": {"theme": "dark"}})
    operations.append({"id": "nope", "op": "no_such_op", "data": {}})
    status, res = await send(server, {"operations": operations}, user.headers)
    assert status == 200, res
    by_id = {r["id"]: r for r in res["data"]["results"]}
    assert [r["id"] for r in res["data"]["results"]] == [o["id"] for o in operations]
    assert (
        by_id["bad-type"]["status"] == "error" and by_id["bad-type"]["code"] == "validation_failed"
    )
    # Applied in order: the clash is judged against op-1, stored just before it.
    assert by_id["clash"]["code"] == "conflict"
    assert by_id["later"]["status"] == "ok" and by_id["later"]["data"]["theme"] == "dark"
    assert by_id["nope"]["code"] == "unsupported_op"
    assert all(by_id[i]["status"] == "ok" for i in ("op-1", "op-2", "op-3", "op-4"))
    assert await counts(user.id) == (2, 1, 1)
    assert (await HandHistory.get(user_id=user.id, hand_id=stored["hand_id"])).record_json == {
        "pot": 1
    }


async def test_malformed_or_oversize_batches_are_refused_whole(server):
    user = await create_user(server)
    one = queue()[:1]
    too_many = [
        {"id": f"op-{i}", "op": "hand", "data": {}}
        for i in range(server.settings.batch_max_ops + 1)
    ]
    cases = [
        ({"operations": []}, 422),
        ({"operations": "all"}, 422),
        ({"operations": one, "extra": 1}, 422),
        ({"operations": [{**one[0], "id": "bad id!"}]}, 422),
        ({"operations": [{**one[0], "op": "Hand; DROP"}]}, 422),
        ({"operations": [{**one[0], "id": 5}]}, 422),
        ({"operations": too_many}, 422),
        ([1, 2], 422),
    ]
    for body, expected in cases:
        status, res = await send(server, body, user.headers)
        assert status == expected, (str(body)[:200], res)
        assert res["status"] == "error"
    status, _ = await send(server, {"operations": one}, {})
    assert status == 401
    assert await counts(user.id) == (0, 0, 0)


async def test_a_batch_writes_only_the_callers_rows(server):
    alice = await create_user(server)
    bob = await create_user(server)
    operations = queue()
    await send(server, {"operations": operations}, alice.headers)
    changed = [
        {
            **op,
            "data": {
                **op["data"],
                **(
                    {"record_json": {"bob": True}}
                    if "record_json" in op["data"]
                    else {"result_json": {"bob": True}}
                ),
            },
        }
        for op in operations
    ]
    _, res = await send(server, {"operations": changed}, bob.headers)
    assert all(r["status"] == "ok" for r in res["data"]["results"])
    rows = await HandHistory.filter(user_id=alice.id)
    assert all(r.record_json != {"bob": True} for r in rows)
    assert await counts(bob.id) == (2, 1, 1)


async def test_the_registry_refuses_a_second_handler_for_one_op(sqlite_server):
    batch = sqlite_server.services.batch
    assert {"hand", "tournament", "mixed"} <= set(batch.ops)

    async def handler(call, data):
        return data

    try:
        batch.register("hand", handler)
    except ValueError as exc:
        assert "already registered" in str(exc)
    else:
        raise AssertionError("a second handler for one op was accepted")


async def test_a_run_of_one_op_is_stored_once_and_a_bad_item_in_it_fails_alone(server):
    user = await create_user(server)
    hands = [
        {
            "id": f"op-{i}",
            "op": "hand",
            "data": {"hand_id": uid("h"), "game_type": "nlhe", "record_json": {"i": i}},
        }
        for i in range(40)
    ]
    for _ in range(3):
        status, res = await send(server, {"operations": hands}, user.headers)
        assert status == 200 and all(r["status"] == "ok" for r in res["data"]["results"])
    assert await counts(user.id) == (40, 0, 0)
    # The run was stored in one transaction: one clock tick for all forty.
    assert len({r.last_modified for r in await HandHistory.filter(user_id=user.id)}) == 1
    fresh = [
        {**op, "id": f"new-{i}", "data": {**op["data"], "hand_id": uid("h")}}
        for i, op in enumerate(hands[:5])
    ]
    fresh[2]["data"]["record_json"] = "not an object"
    _, res = await send(server, {"operations": fresh}, user.headers)
    assert [r["status"] for r in res["data"]["results"]] == ["ok", "ok", "error", "ok", "ok"]
    assert await counts(user.id) == (44, 0, 0)


def rl_line(reward: float = 1.0, **extra):
    return {"game": "badugi", "model_version": "badugi_v5", "state": {"cards": [1, 2]},
            "action": "raise", "reward": reward, **extra}


async def settings_events(user_id):
    return await RoomEvent.filter(room=f"user_{user_id}", event="settings:update").order_by("seq")


async def test_a_queued_settings_change_applies_once_however_often_it_is_resent(server):
    user = await create_user(server)
    operations = [{"id": "set-1", "op": "settings", "data": {"theme": "dark", "bgm_on": False}}]
    answers = [await send(server, {"operations": operations}, user.headers) for _ in range(3)]
    assert all(status == 200 for status, _ in answers), answers
    assert answers[0][1] == answers[1][1] == answers[2][1]
    result = answers[0][1]["data"]["results"][0]
    assert result["status"] == "ok", result
    assert result["data"] == {"se_on": True, "bgm_on": False, "theme": "dark",
                              "card_skin": "standard", "version": 2}
    row = await UserSettings.get(user_id=user.id)
    assert (row.theme, row.bgm_on, row.version) == ("dark", False, 2)
    assert row.last_modified > 0 and row.changed_by_device == ""
    events = await settings_events(user.id)
    assert len(events) == 1
    assert events[0].payload == {"user_id": user.id, **result["data"], "device_id": "dev-1"}


async def test_a_queued_settings_change_overwrites_only_the_fields_it_names(server):
    user = await create_user(server)
    await UserSettings.create(user_id=user.id, theme="light", card_skin="gold", version=7)
    status, res = await send(
        server, {"operations": [{"id": "a", "op": "settings", "data": {"se_on": False}}]},
        user.headers)
    assert status == 200 and res["data"]["results"][0]["status"] == "ok", res
    row = await UserSettings.get(user_id=user.id)
    assert (row.se_on, row.theme, row.card_skin, row.version) == (False, "light", "gold", 8)


async def test_queued_rl_lines_are_stored_once_however_often_they_are_resent(server):
    user = await create_user(server)
    lines = [rl_line(reward=float(i), step=i) for i in range(3)]
    operations = [{"id": "rl-1", "op": "rl_lines", "data": lines}]
    answers = [await send(server, {"operations": operations}, user.headers) for _ in range(3)]
    assert all(status == 200 for status, _ in answers), answers
    assert answers[0][1] == answers[1][1] == answers[2][1]
    result = answers[0][1]["data"]["results"][0]
    assert result["status"] == "ok" and result["data"]["accepted"] == 3, result
    stored = await RlBuffer.filter(user_id=user.id).order_by("id")
    assert [json.loads(r.data_jsonl) for r in stored] == lines
    assert {r.upload_id for r in stored} == {result["data"]["upload_id"]}


async def test_invalid_settings_and_rl_lines_fail_alone_and_store_nothing(server):
    user = await create_user(server)
    too_long = rl_line(info={"pad": "x" * server.settings.rl_line_max_bytes})
    bad = {
        "theme": ("settings", {"theme": "neon"}),
        "type": ("settings", {"se_on": "yes"}),
        "extra": ("settings", {"theme": "dark", "password": "x"}),
        "versioned": ("settings", {"version": 1, "theme": "dark"}),
        "empty": ("settings", {}),
        "nulls": ("settings", {"theme": None}),
        "not_obj": ("settings", ["dark"]),
        "one_bad_line": ("rl_lines", [rl_line(), rl_line(reward="lots"), rl_line()]),
        "no_reward": ("rl_lines", [rl_line(), {**rl_line(), "reward": None}]),
        "not_a_line": ("rl_lines", [rl_line(), 5]),
        "too_long": ("rl_lines", [rl_line(), too_long]),
        "no_lines": ("rl_lines", []),
        "not_list": ("rl_lines", rl_line()),
    }
    operations = [{"id": key, "op": op, "data": data} for key, (op, data) in bad.items()]
    operations.insert(3, {"id": "good", "op": "settings", "data": {"card_skin": "gold"}})
    status, res = await send(server, {"operations": operations}, user.headers)
    assert status == 200, res
    results = {r["id"]: r for r in res["data"]["results"]}
    assert results.pop("good")["status"] == "ok"
    assert all(r["status"] == "error" for r in results.values()), results
    assert results["one_bad_line"]["code"] == "invalid_lines"
    assert results["one_bad_line"]["details"][0]["line"] == 2
    assert "line 2" in results["one_bad_line"]["message"]
    assert results["too_long"]["details"][0]["line"] == 2
    assert results["empty"]["code"] == "nothing_to_change"
    assert results["theme"]["code"] == "validation_failed"
    assert await RlBuffer.filter(user_id=user.id).count() == 0
    row = await UserSettings.get(user_id=user.id)
    assert (row.theme, row.se_on, row.card_skin, row.version) == ("classic", True, "gold", 2)
    assert len(await settings_events(user.id)) == 1


async def test_mixed_ops_are_applied_in_order_and_answered_in_order(server):
    user = await create_user(server)
    hand = queue()[0]
    operations = [
        {"id": "s-1", "op": "settings", "data": {"theme": "dark"}},
        hand,
        {"id": "rl-1", "op": "rl_lines", "data": [rl_line(reward=1.0)]},
        {"id": "s-2", "op": "settings", "data": {"theme": "light", "se_on": False}},
        {"id": "rl-2", "op": "rl_lines", "data": [rl_line(reward=2.0)]},
        {"id": "s-3", "op": "settings", "data": {"theme": "high_contrast"}},
        {"id": "nope", "op": "no_such_op", "data": {}},
    ]
    for _ in range(2):
        status, res = await send(server, {"operations": operations}, user.headers)
        assert status == 200, res
        results = res["data"]["results"]
        assert [r["id"] for r in results] == [o["id"] for o in operations]
        assert [r["status"] for r in results] == ["ok"] * 6 + ["error"]
        assert [r["data"]["version"] for r in results if r["id"].startswith("s-")] == [2, 3, 4]
    row = await UserSettings.get(user_id=user.id)
    assert (row.theme, row.se_on, row.version) == ("high_contrast", False, 4)
    assert [e.payload["theme"] for e in await settings_events(user.id)] == [
        "dark", "light", "high_contrast"]
    stored = await RlBuffer.filter(user_id=user.id).order_by("id")
    assert [json.loads(r.data_jsonl)["reward"] for r in stored] == [1.0, 2.0]
    assert await counts(user.id) == (1, 0, 0)


async def test_queued_ops_write_only_the_callers_rows(server):
    alice = await create_user(server)
    bob = await create_user(server)
    operations = [{"id": "same-id", "op": "settings", "data": {"theme": "dark"}},
                  {"id": "rl", "op": "rl_lines", "data": [rl_line()]}]
    await send(server, {"operations": operations}, alice.headers)
    _, res = await send(server, {"operations": operations}, bob.headers)
    assert all(r["status"] == "ok" for r in res["data"]["results"]), res
    for user in (alice, bob):  # one client id, two users: applied for each of them
        assert (await UserSettings.get(user_id=user.id)).version == 2
        assert await RlBuffer.filter(user_id=user.id).count() == 1


async def test_concurrent_resends_of_one_queue_apply_each_item_once(server):
    user = await create_user(server)
    operations = [{"id": "s", "op": "settings", "data": {"theme": "dark"}},
                  {"id": "rl", "op": "rl_lines", "data": [rl_line(), rl_line(reward=2.0)]}]
    answers = await asyncio.gather(
        *(send(server, {"operations": operations}, user.headers) for _ in range(4)))
    assert all(status == 200 for status, _ in answers), answers
    assert all(a[1] == answers[0][1] for a in answers)
    assert [r["status"] for r in answers[0][1]["data"]["results"]] == ["ok", "ok"]
    assert (await UserSettings.get(user_id=user.id)).version == 2
    assert len(await settings_events(user.id)) == 1
    assert await RlBuffer.filter(user_id=user.id).count() == 2
