"""The rating REST edge: reads for the owner, a leaderboard with the caller's rank, and
`POST /rating/update` as a claim the server answers with its own values and never writes."""

import uuid

import pytest

from models.ratings import Rating, RatingChange
from tests.apiclient import api
from tests.factories import create_user


def source(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}"


async def stored(user_id):
    row = await Rating.get(user_id=user_id)
    return (row.sr, row.st, row.mr, row.mt, row.gr, row.version,
            await RatingChange.filter(user_id=user_id).count())


@pytest.fixture
async def tournament(server):
    """Nine players, a tournament the server holds, placed in creation order."""
    players = [await create_user(server) for _ in range(9)]
    tid = source("t")
    await server.services.ratings.apply_result(
        "tournament", tid, [(p.id, place) for place, p in enumerate(players, start=1)])
    return tid, players


async def test_owner_reads_rating_and_paginated_history(server, tournament):
    tid, players = tournament
    winner = players[0]
    await server.services.ratings.apply_result("mixed_game", source("m"),
                                               [(winner.id, 1), (players[1].id, 2)])

    status, reply = await api(server, "GET", f"/rating/{winner.id}", user=winner)
    assert status == 200, reply
    data = reply["data"]
    row = await Rating.get(user_id=winner.id)
    assert data["rated"] and (data["sr"], data["mr"], data["gr"]) == (row.sr, row.mr, row.gr)
    assert data["sr"] > 1500 and data["mr"] > 1500 and data["last_update"]

    status, page1 = await api(server, "GET", f"/rating/{winner.id}/history?limit=1", user=winner)
    assert status == 200 and [i["reason"] for i in page1["data"]["items"]] == ["mixed_game"]
    before = page1["data"]["next_before"]
    status, page2 = await api(server, "GET", f"/rating/{winner.id}/history?limit=1&before={before}",
                              user=winner)
    item = page2["data"]["items"][0]
    assert (item["reason"], item["source_id"], item["place"], item["field_size"]) == \
        ("tournament", tid, 1, 9)
    assert item["sr_before"] == 1500 and item["sr_after"] > 1500
    assert page2["data"]["next_before"] is None


async def test_a_user_without_results_reads_a_newcomers_rating(server):
    user = await create_user(server)
    status, reply = await api(server, "GET", f"/rating/{user.id}", user=user)
    assert status == 200
    assert reply["data"] | {"last_update": None} == {
        "user_id": user.id, "rated": False, "sr": 1500, "st": 350, "mr": 1500, "mt": 350,
        "gr": 800, "st_now": 350, "mt_now": 350, "last_update": None, "version": 0}
    status, reply = await api(server, "GET", f"/rating/{user.id}/history", user=user)
    assert status == 200 and reply["data"] == {"items": [], "next_before": None}


async def test_other_users_ratings_are_refused_but_an_admin_may_read_them(server, tournament):
    _, players = tournament
    owner, other = players[0], players[1]
    admin = await create_user(server, is_admin=True)
    for path in (f"/rating/{owner.id}", f"/rating/{owner.id}/history"):
        status, reply = await api(server, "GET", path, user=other)
        assert status == 403 and reply["error"]["code"] == "forbidden"
        status, reply = await api(server, "GET", path, user=admin)
        assert status == 200
    status, reply = await api(server, "GET", f"/rating/{2**62}", user=admin)
    assert status == 404


async def test_a_forged_claim_is_reported_and_never_written(server, tournament):
    tid, players = tournament
    loser = players[-1]
    before = await stored(loser.id)
    change = await RatingChange.get(user_id=loser.id, source_id=tid)

    status, reply = await api(server, "POST", "/rating/update", user=loser, json={
        "reason": "tournament", "source_id": tid, "sr_before": 1500,
        "sr_after": change.sr_after + 400, "mr_before": 1500, "mr_after": 1500,
        "new_global_rating": 2400})

    assert status == 200, reply
    data = reply["data"]
    assert data["claim"]["status"] == "disagrees" and data["claim"]["written"] is False
    assert {m["field"] for m in data["claim"]["mismatches"]} == {"sr_after", "new_global_rating"}
    assert data["change"]["sr_after"] == change.sr_after
    assert data["rating"]["sr"] == before[0]
    assert await stored(loser.id) == before


async def test_an_honest_claim_agrees_and_gets_the_servers_values(server, tournament):
    tid, players = tournament
    change = await RatingChange.get(user_id=players[0].id, source_id=tid)
    status, reply = await api(server, "POST", "/rating/update", user=players[0], json={
        "reason": "tournament", "source_id": tid, "sr_before": change.sr_before,
        "sr_after": round(change.sr_after, 1), "new_global_rating": change.gr_after})
    assert status == 200
    assert reply["data"]["claim"] == {"status": "agrees", "mismatches": [], "written": False}
    assert reply["data"]["change"]["new_global_rating"] == change.gr_after


async def test_a_claim_cannot_touch_another_users_rating(server, tournament):
    tid, players = tournament
    victim, attacker = players[0], players[1]
    outsider = await create_user(server)
    before = await stored(victim.id)

    status, reply = await api(server, "POST", "/rating/update", user=attacker, json={
        "reason": "tournament", "source_id": tid, "user_id": victim.id, "sr_after": 9999})
    assert status == 403 and reply["error"]["code"] == "forbidden"
    # Naming a result the caller did not play in is refused too.
    status, reply = await api(server, "POST", "/rating/update", user=outsider, json={
        "reason": "tournament", "source_id": tid, "sr_after": 9999})
    assert status == 403
    assert not await Rating.exists(user_id=outsider.id)
    assert await stored(victim.id) == before


async def test_a_claim_for_a_result_the_server_does_not_hold_changes_nothing(server, tournament):
    tid, players = tournament
    before = await stored(players[0].id)
    for reason, sid in (("p2p", source("never-recorded")), ("mixed_game", tid)):
        status, reply = await api(server, "POST", "/rating/update", user=players[0], json={
            "reason": reason, "source_id": sid, "sr_before": 1500, "sr_after": 1900})
        assert status == 404 and reply["error"]["code"] == "result_not_found"
    assert await stored(players[0].id) == before


@pytest.mark.parametrize("body, status", [
    ({"reason": "tournament"}, 422),
    ({"reason": "ladder", "source_id": "s"}, 422),
    ({"reason": "p2p", "source_id": "x" * 65}, 422),
    ({"reason": "p2p", "source_id": "a b"}, 422),
    ({"reason": "p2p", "source_id": "s", "sr": 2000}, 422),
    ({"reason": "p2p", "source_id": "s", "sr_after": "high"}, 422),
    ({"reason": "p2p", "source_id": "s", "sr_after": 1e300}, 422),
    ({"reason": "p2p", "source_id": "s", "user_id": 0}, 422),
    ({"reason": "p2p", "source_id": "s", "user_id": 2**64}, 422),
    ([1, 2], 422),
])
async def test_malformed_claims_get_a_clear_error(server, body, status):
    user = await create_user(server)
    code, reply = await api(server, "POST", "/rating/update", user=user, json=body)
    assert code == status and reply["status"] == "error"
    assert reply["error"]["code"] == "validation_failed"


async def test_claims_need_json_and_a_valid_token(server):
    user = await create_user(server)
    status, reply = await api(server, "POST", "/rating/update", user=user, data=b"{not json",
                              headers={"Content-Type": "application/json"})
    assert status == 400 and reply["error"]["code"] == "bad_input"
    status, reply = await api(server, "POST", "/rating/update", data=b"x" * (2 * 1024 * 1024),
                              headers={"Content-Type": "application/json", **user.headers})
    assert status == 413
    body = {"reason": "p2p", "source_id": "s"}
    status, reply = await api(server, "POST", "/rating/update", json=body)
    assert status == 401
    expired, _ = server.services.tokens.issue_access(user.id, user.device_id, now=1_000_000)
    status, reply = await api(server, "POST", "/rating/update", json=body,
                              headers={"Authorization": f"Bearer {expired}"})
    assert status == 401 and reply["error"]["code"] == "auth_expired"
    forged = user.token[:-4] + ("AAAA" if not user.token.endswith("AAAA") else "BBBB")
    status, reply = await api(server, "GET", f"/rating/{user.id}",
                              headers={"Authorization": f"Bearer {forged}"})
    assert status == 401 and reply["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("path", [
    "/rating/abc", "/rating/0", f"/rating/{2**64}", "/rating/1/history?limit=0",
    "/rating/1/history?limit=101", "/rating/1/history?before=x", "/rating/1/history?page=2",
    "/rating/leaderboard?kind=elo", "/rating/leaderboard?limit=1000",
    "/rating/leaderboard?offset=-1", "/rating/leaderboard?sort=asc",
])
async def test_malformed_reads_get_a_clear_error(server, path):
    user = await create_user(server)
    path = path.replace("/rating/1/", f"/rating/{user.id}/")
    status, reply = await api(server, "GET", path, user=user)
    assert status == 422 and reply["error"]["code"] == "validation_failed", (path, reply)


async def test_leaderboard_order_pagination_and_the_callers_rank(server):
    # Seeded directly above everyone else in the shared database: reads only, no results.
    top = max(await Rating.all().values_list("sr", flat=True) or [0]) + 1000
    players = [await create_user(server, nickname=f"lb{i}") for i in range(5)]
    values = [top + 30, top + 10, top + 20, top + 10, top]
    for player, sr in zip(players, values):
        await Rating.create(user_id=player.id, sr=sr, st=100, mr=1500, mt=350, gr=900)
    # Expected order: by sr, then the lower user id on a tie.
    expected = [p.id for _, p in sorted(zip(values, players), key=lambda vp: (-vp[0], vp[1].id))]
    total = await Rating.all().count()
    caller = players[3]

    status, first = await api(server, "GET", "/rating/leaderboard?kind=sr&limit=2", user=caller)
    status2, second = await api(server, "GET", "/rating/leaderboard?kind=sr&limit=2&offset=2",
                                user=caller)
    assert status == status2 == 200
    items = first["data"]["items"] + second["data"]["items"]
    assert [i["user_id"] for i in items] == expected[:4]
    assert [i["rank"] for i in items] == [1, 2, 3, 4]
    assert items[0]["nickname"] == "lb0" and items[0]["value"] == top + 30
    assert first["data"]["total"] == total
    assert first["data"]["me"] == {"rank": expected.index(caller.id) + 1, "user_id": caller.id,
                                   "value": top + 10}

    outsider = await create_user(server)
    status, reply = await api(server, "GET", "/rating/leaderboard?kind=sr&limit=1", user=outsider)
    assert status == 200 and reply["data"]["me"] is None


async def test_leaderboard_by_gr_and_mr_follows_results(server, tournament):
    _, players = tournament
    for kind in ("gr", "mr"):
        status, reply = await api(server, "GET", f"/rating/leaderboard?kind={kind}&limit=100",
                                  user=players[0])
        assert status == 200
        values = [i["value"] for i in reply["data"]["items"]]
        assert values == sorted(values, reverse=True)
    status, reply = await api(server, "GET", "/rating/leaderboard?kind=gr&limit=1", user=players[0])
    me_first = reply["data"]["me"]["rank"]
    status, reply = await api(server, "GET", "/rating/leaderboard?kind=gr&limit=1", user=players[-1])
    assert me_first < reply["data"]["me"]["rank"]  # the winner ranks above the last place


async def test_the_offline_queue_carries_claims_and_they_write_nothing(server, tournament):
    tid, players = tournament
    loser = players[-1]
    before = await stored(loser.id)
    status, reply = await api(server, "POST", "/batch", user=loser, json={"operations": [
        {"id": "c1", "op": "rating_claim",
         "data": {"reason": "tournament", "source_id": tid, "sr_after": 3000}},
        {"id": "c2", "op": "rating_claim", "data": {"reason": "tournament", "sr_after": 3000}},
        {"id": "c3", "op": "rating_claim",
         "data": {"reason": "tournament", "source_id": tid, "user_id": players[0].id}},
    ]})
    assert status == 200, reply
    first, second, third = reply["data"]["results"]
    assert first["status"] == "ok" and first["data"]["claim"]["status"] == "disagrees"
    assert (second["status"], second["code"]) == ("error", "validation_failed")
    assert (third["status"], third["code"]) == ("error", "forbidden")
    assert await stored(loser.id) == before
