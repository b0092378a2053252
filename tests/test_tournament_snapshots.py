"""Every snapshot rule, broken one at a time: a clear 4xx naming the rule, and nothing changed."""

import pytest

from tests.apiclient import api
from tests.factories import create_user
from tests.tournament_kit import FakeClock, SnapshotBook, structure

SPEC = structure([(10, 20, 0, "nlh"), (20, 40, 0, "plo"), (50, 100, 10, "razz")],
                 breaks={1: 300}, stack=1000, seats=6)
PLAYERS = ["p1", "p2", "p3", "p4"]


@pytest.fixture
async def table(server):
    clock = FakeClock()
    server.services.tournaments.now = clock
    host = await create_user(server)
    player = await create_user(server)
    outsider = await create_user(server)
    status, reply = await api(server, "POST", "/tournament/create", user=host, json={
        "name": "Sunday", "structure": SPEC, "table_count": 1,
        "players": [{"player_id": pid, "user_id": player.id if pid == "p1" else None}
                    for pid in PLAYERS]})
    assert status == 201, reply
    tid = reply["data"]["tournament_id"]
    status, _ = await api(server, "POST", f"/tournament/{tid}/clock", user=host, json={"action": "start"})
    assert status == 200
    book = SnapshotBook(tid, SPEC, {pid: (1, i) for i, pid in enumerate(PLAYERS, 1)}, table_count=1)
    return server, clock, host, player, outsider, book


async def state_of(server, user, tid):
    status, reply = await api(server, "GET", f"/tournament/resume/{tid}", user=user)
    assert status == 200
    return reply["data"]


def stacks(book, **changes):
    rows = book.body()["player_stacks"]
    for row in rows:
        row.update(changes.get(row["player_id"], {}))
    return rows


BROKEN = [
    ("chips_conserved", lambda b: {"player_stacks": stacks(b, p1={"stack": 1001})}),
    ("eliminated_have_no_stack", lambda b: {"eliminated_players": [{"player_id": "p4", "place": 4}]}),
    ("players_registered", lambda b: {"player_stacks": stacks(b) + [
        {"player_id": "ghost", "table": 1, "seat": 6, "stack": 1}]}),
    ("players_accounted", lambda b: {"player_stacks": stacks(b)[:3]}),
    ("busted_players_eliminated", lambda b: {"player_stacks": stacks(b, p1={"stack": 0}, p2={"stack": 2000})}),
    ("places_consistent", lambda b: {
        "player_stacks": stacks(b, p1={"stack": 2000})[:3],
        "eliminated_players": [{"player_id": "p4", "place": 2}]}),
    ("seats_unique", lambda b: {"player_stacks": stacks(b, p2={"seat": 1})}),
    ("seats_unique", lambda b: {"player_stacks": stacks(b, p2={"seat": 7})}),
    ("tables_consistent", lambda b: {"player_stacks": stacks(b, p2={"table": 2}),
                                     "final_table": False}),
    ("tables_consistent", lambda b: {"table_count": 2}),
    ("final_table_flag", lambda b: {"final_table": False}),
    ("level_matches_clock", lambda b: {"level": 2, "small_blind": 20, "big_blind": 40}),
    ("level_matches_clock", lambda b: {"on_break": True}),
    ("blinds_match_structure", lambda b: {"big_blind": 25}),
]


@pytest.mark.parametrize("rule, breakage", BROKEN, ids=[f"{r}-{i}" for i, (r, _) in enumerate(BROKEN)])
async def test_a_snapshot_breaking_a_rule_is_refused_and_changes_nothing(table, rule, breakage):
    server, _, host, player, _, book = table
    before = await state_of(server, player, book.tournament_id)
    status, reply = await book.submit(server, host, **breakage(book))
    assert status == 422, reply
    assert reply["error"]["code"] == "snapshot_rejected"
    assert reply["error"]["details"]["rule"] == rule
    assert rule in reply["error"]["message"]
    after = await state_of(server, player, book.tournament_id)
    assert after == {**before, "clock": after["clock"]}
    assert after["snapshot_version"] == 0 and after["state"] is None


async def test_a_valid_snapshot_is_accepted_and_a_replay_of_it_is_a_conflict(table):
    server, _, host, player, _, book = table
    status, reply = await book.submit(server, host)
    assert status == 200 and reply["data"]["version"] == 1
    last_seq = (await state_of(server, player, book.tournament_id))["last_seq"]

    status, reply = await api(server, "POST", "/tournament/snapshot", user=host,
                              json=book.body(version=1))
    assert status == 409
    assert reply["error"]["code"] == "stale_snapshot"
    assert reply["error"]["details"] == {"rule": "version_monotonic", "current_version": 1}
    assert (await state_of(server, player, book.tournament_id))["last_seq"] == last_seq


async def test_an_eliminated_player_cannot_come_back(table):
    server, _, host, _, _, book = table
    book.bust("p4", "p1")
    assert (await book.submit(server, host))[0] == 200
    back = book.body(player_stacks=book.body()["player_stacks"] + [
        {"player_id": "p4", "table": 1, "seat": 4, "stack": 1}], eliminated_players=[])
    back["player_stacks"][0]["stack"] -= 1
    status, reply = await book.submit(server, host, **back)
    assert status == 422 and reply["error"]["details"]["rule"] == "eliminations_final"


async def test_the_previous_level_is_accepted_just_after_a_level_change(table):
    server, clock, host, _, _, book = table
    clock.advance(610)  # level 2 began 10 s ago: a hand of level 1 may still be reported
    assert (await book.submit(server, host))[0] == 200
    clock.advance(60)
    status, reply = await book.submit(server, host)
    assert status == 422 and reply["error"]["details"]["rule"] == "level_matches_clock"


async def test_only_the_host_submits_and_outsiders_see_nothing(table):
    server, _, _, player, outsider, book = table
    status, reply = await book.submit(server, player)
    assert (status, reply["error"]["code"]) == (403, "forbidden")
    status, reply = await book.submit(server, outsider)
    assert (status, reply["error"]["code"]) == (404, "not_found")
    for path in (f"/tournament/resume/{book.tournament_id}", f"/tournament/{book.tournament_id}/events"):
        status, _ = await api(server, "GET", path, user=outsider)
        assert status == 404
    status, _ = await api(server, "POST", f"/tournament/{book.tournament_id}/clock", user=player,
                          json={"action": "pause"})
    assert status == 403


@pytest.mark.parametrize("body", [
    {"tournament_id": "x", "version": "one"},
    {"tournament_id": "../etc", "version": 1, "level": 1, "small_blind": 1, "big_blind": 2,
     "table_count": 1, "player_stacks": []},
    [1, 2, 3],
])
async def test_malformed_snapshots_are_validation_errors(table, body):
    server, _, host, _, _, _ = table
    status, reply = await api(server, "POST", "/tournament/snapshot", user=host, json=body)
    assert (status, reply["error"]["code"]) == (422, "validation_failed")


async def test_create_refuses_impossible_tournaments(server):
    host = await create_user(server)
    base = {"name": "x", "structure": SPEC, "table_count": 1,
            "players": [{"player_id": f"p{i}"} for i in range(7)]}  # 7 players, 6 seats
    status, reply = await api(server, "POST", "/tournament/create", user=host, json=base)
    assert status == 422 and reply["error"]["code"] == "validation_failed"
    status, _ = await api(server, "POST", "/tournament/create", user=host, json={
        **base, "players": [{"player_id": "a", "user_id": 10**12}, {"player_id": "b"}]})
    assert status == 422
    status, _ = await api(server, "POST", "/tournament/create", json={**base, "players": base["players"][:2]})
    assert status == 401
