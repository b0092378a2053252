"""History ingest and listings: idempotent by client id, validated, only ever the caller's rows."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp

from models.history import HandHistory, MixedGameHistory, TournamentHistory
from tests.factories import create_user


def uid(prefix: str = "h") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def hand(**overrides):
    body = {
        "hand_id": uid(),
        "game_type": "nlhe",
        "tournament_id": None,
        "record_json": {"board": ["As", "Kd", "7c"], "pot": 1200},
    }
    body.update(overrides)
    return body


async def post(server, path, body, headers):
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.url}/api/v1{path}", json=body, headers=headers) as res,
    ):
        return res.status, await res.json()


async def get(server, path, headers, params=None):
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}/api/v1{path}", params=params, headers=headers) as res,
    ):
        return res.status, await res.json()


async def test_one_hand_is_stored_and_a_replay_returns_the_stored_record(server):
    user = await create_user(server)
    body = hand()
    status, first = await post(server, "/history/hand", body, user.headers)
    assert status == 200, first
    assert first["data"]["hand_id"] == body["hand_id"]
    assert first["data"]["record_json"] == body["record_json"]
    assert first["data"]["last_modified"] > 0
    status, again = await post(server, "/history/hand", body, user.headers)
    assert status == 200
    assert again["data"] == first["data"]
    assert await HandHistory.filter(user_id=user.id, hand_id=body["hand_id"]).count() == 1


async def test_a_different_body_under_a_stored_id_is_a_conflict_and_changes_nothing(server):
    user = await create_user(server)
    body = hand()
    await post(server, "/history/hand", body, user.headers)
    status, res = await post(
        server, "/history/hand", {**body, "record_json": {"pot": 1}}, user.headers
    )
    assert status == 409 and res["error"]["code"] == "conflict"
    row = await HandHistory.get(user_id=user.id, hand_id=body["hand_id"])
    assert row.record_json == body["record_json"]


async def test_a_batch_is_stored_once_however_often_it_is_sent(server):
    user = await create_user(server)
    records = [hand() for _ in range(5)]
    answers = [
        await post(server, "/history/hand", {"records": records}, user.headers) for _ in range(3)
    ]
    assert all(status == 200 for status, _ in answers)
    assert answers[0][1] == answers[1][1] == answers[2][1]
    assert [r["hand_id"] for r in answers[0][1]["data"]["records"]] == [
        r["hand_id"] for r in records
    ]
    assert await HandHistory.filter(user_id=user.id).count() == 5


async def test_a_batch_with_one_conflicting_record_stores_none_of_it(server):
    user = await create_user(server)
    stored = hand()
    await post(server, "/history/hand", stored, user.headers)
    fresh = hand()
    status, res = await post(
        server, "/history/hand", {"records": [fresh, {**stored, "game_type": "plo"}]}, user.headers
    )
    assert status == 409, res
    assert not await HandHistory.filter(user_id=user.id, hand_id=fresh["hand_id"]).exists()


async def test_bad_records_are_refused_with_a_clear_error_and_nothing_is_stored(server):
    user = await create_user(server)
    big = {"blob": "x" * (server.settings.history_record_max_bytes + 10)}
    cases = [
        ({**hand(), "record_json": [1, 2, 3]}, 422),  # must be an object
        ({**hand(), "record_json": "{}"}, 422),  # text is not an object
        ({**hand(), "record_json": big}, 422),  # over the size cap
        ({**hand(), "hand_id": "../etc/passwd"}, 422),  # unsafe id
        ({**hand(), "hand_id": "x" * 65}, 422),  # too long
        ({**hand(), "game_type": 7}, 422),  # wrong type
        ({**hand(), "extra": True}, 422),  # unknown field
        ({"records": [hand(), {"hand_id": uid()}]}, 422),  # one bad item spoils the batch
        ({"records": "nope"}, 422),
        ({"records": [hand() for _ in range(server.settings.history_batch_max + 1)]}, 422),
    ]
    for body, expected in cases:
        status, res = await post(server, "/history/hand", body, user.headers)
        assert status == expected, (body if len(str(body)) < 300 else "large", res)
        assert res["status"] == "error" and res["error"]["code"]
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{server.url}/api/v1/history/hand",
            data=b"{not json",
            headers={**user.headers, "Content-Type": "application/json"},
        ) as res,
    ):
        assert res.status == 400
    assert await HandHistory.filter(user_id=user.id).count() == 0


async def test_without_a_valid_token_nothing_is_read_or_written(server):
    status, _ = await post(server, "/history/hand", hand(), {})
    assert status == 401
    status, _ = await post(
        server, "/history/hand", hand(), {"Authorization": "Bearer forged.token.x"}
    )
    assert status == 401
    status, _ = await get(server, "/history/hand", {})
    assert status == 401


async def test_another_users_ids_are_never_readable_or_writable(server):
    alice = await create_user(server)
    bob = await create_user(server)
    body = hand()
    await post(server, "/history/hand", body, alice.headers)
    # Bob storing under Alice's id gets a record of his own; Alice's stays as it was.
    status, res = await post(
        server, "/history/hand", {**body, "record_json": {"bob": 1}}, bob.headers
    )
    assert status == 200 and res["data"]["record_json"] == {"bob": 1}
    assert (await HandHistory.get(user_id=alice.id, hand_id=body["hand_id"])).record_json == body[
        "record_json"
    ]
    _, listing = await get(server, "/history/hand", bob.headers)
    assert [r["record_json"] for r in listing["data"]["items"]] == [{"bob": 1}]
    _, listing = await get(server, "/history/hand", alice.headers)
    assert [r["record_json"] for r in listing["data"]["items"]] == [body["record_json"]]


async def test_listings_filter_and_paginate_newest_first(server):
    user = await create_user(server)
    t1 = uid("t")
    records = [
        hand(game_type="nlhe" if i % 2 else "plo", tournament_id=t1 if i < 4 else None)
        for i in range(7)
    ]
    for record in records:
        await post(server, "/history/hand", record, user.headers)
    seen, cursor = [], None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        status, page = await get(server, "/history/hand", user.headers, params)
        assert status == 200, page
        seen += [r["hand_id"] for r in page["data"]["items"]]
        cursor = page["data"]["next_cursor"]
        if cursor is None:
            break
    assert seen == [r["hand_id"] for r in reversed(records)]
    _, plo = await get(server, "/history/hand", user.headers, {"game_type": "plo"})
    assert {r["hand_id"] for r in plo["data"]["items"]} == {r["hand_id"] for r in records[0::2]}
    _, in_t1 = await get(server, "/history/hand", user.headers, {"tournament_id": t1})
    assert {r["hand_id"] for r in in_t1["data"]["items"]} == {r["hand_id"] for r in records[:4]}
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    _, none = await get(server, "/history/hand", user.headers, {"since": future})
    assert none["data"]["items"] == []
    _, everything = await get(server, "/history/hand", user.headers, {"until": future})
    assert len(everything["data"]["items"]) == 7
    _, naive = await get(server, "/history/hand", user.headers, {"since": "2000-01-01T00:00:00"})
    assert len(naive["data"]["items"]) == 7
    for params in (
        {"limit": "0"},
        {"limit": "x"},
        {"since": "yesterday"},
        {"bogus": "1"},
        {"since": future, "until": "2000-01-01T00:00:00Z"},
    ):
        status, res = await get(server, "/history/hand", user.headers, params)
        assert status in (400, 422), (params, res)


async def test_tournament_and_mixed_histories_follow_the_same_rules(server):
    user = await create_user(server)
    result = {"tournament_id": uid("t"), "result_json": {"prize": 500}, "rank": 3, "chips": 0}
    status, res = await post(server, "/history/tournament", result, user.headers)
    assert status == 200 and res["data"]["rank"] == 3
    assert (await post(server, "/history/tournament", result, user.headers))[1] == res
    status, _ = await post(server, "/history/tournament", {**result, "rank": 1}, user.headers)
    assert status == 409
    status, _ = await post(server, "/history/tournament", {**result, "rank": "3"}, user.headers)
    assert status == 422
    switch = {
        "record_id": uid("m"),
        "from_game": "razz",
        "to_game": "stud",
        "record_json": {"level": 4},
    }
    status, res = await post(server, "/history/mixed", {"records": [switch]}, user.headers)
    assert status == 200, res
    _, listing = await get(server, "/history/mixed", user.headers, {"game_type": "stud"})
    assert [r["record_id"] for r in listing["data"]["items"]] == [switch["record_id"]]
    status, _ = await get(server, "/history/tournament", user.headers, {"game_type": "stud"})
    assert status == 400
    assert await TournamentHistory.filter(user_id=user.id).count() == 1
    assert await MixedGameHistory.filter(user_id=user.id).count() == 1


async def test_concurrent_writes_get_distinct_clock_values(server):
    user = await create_user(server)
    answers = await asyncio.gather(
        *(post(server, "/history/hand", hand(), user.headers) for _ in range(12))
    )
    stamps = [res["data"]["last_modified"] for status, res in answers if status == 200]
    assert len(stamps) == 12 and len(set(stamps)) == 12 and min(stamps) > 0


async def test_the_same_new_record_sent_concurrently_is_stored_once(server):
    user = await create_user(server)
    body = hand()
    answers = await asyncio.gather(
        *(post(server, "/history/hand", body, user.headers) for _ in range(6))
    )
    assert all(status == 200 for status, _ in answers), answers
    assert len({res["data"]["last_modified"] for _, res in answers}) == 1
    assert await HandHistory.filter(user_id=user.id, hand_id=body["hand_id"]).count() == 1
