"""POST /batch: the offline queue, applied in order, answered per item, safe to resend."""

from __future__ import annotations

import uuid

import aiohttp

from models.history import HandHistory, MixedGameHistory, TournamentHistory
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
    assert by_id["later"]["code"] == "unsupported_op"
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
