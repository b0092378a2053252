"""A whole mixed-game tournament driven through REST, then rebuilt from its event log alone."""

import random

import pytest

from models.accounts import Device
from models.history import TournamentHistory
from server.services.tournament.replay import replay
from tests.apiclient import api
from tests.factories import TestUser, create_user
from tests.tournament_kit import FakeClock, SnapshotBook, Watcher, structure

HORSE_PLUS = [(10, 20, 0, "lhe"), (15, 30, 0, "razz"), (20, 40, 5, "stud"), (25, 50, 5, "stud8"),
              (50, 100, 10, "plo8"), (75, 150, 15, "nlh"), (100, 200, 25, "2-7td"),
              (150, 300, 25, "badugi"), (200, 400, 50, "plo")]
SPEC = structure(HORSE_PLUS, breaks={2: 300, 4: 300, 6: 300}, stack=5000, seats=9)


async def all_events(server, user, tid):
    events, after = [], 0
    while True:
        status, reply = await api(server, "GET", f"/tournament/{tid}/events?after_seq={after}&limit=50",
                                  user=user)
        assert status == 200
        events += reply["data"]["events"]
        if not reply["data"]["has_more"]:
            return events
        after = events[-1]["seq"]


async def follow_clock(server, user, book):
    status, reply = await api(server, "GET", f"/tournament/resume/{book.tournament_id}", user=user)
    assert status == 200
    book.level, book.on_break = reply["data"]["clock"]["level"], reply["data"]["clock"]["on_break"]
    return reply["data"]


@pytest.mark.usefixtures("node_ready")
async def test_27_player_mixed_game_tournament_replays_exactly(server):
    clock = FakeClock()
    server.services.tournaments.now = clock
    host = await create_user(server)
    humans = [await create_user(server) for _ in range(3)]
    players = [f"p{i:02d}" for i in range(1, 28)]
    users = dict(zip(players[:3], humans))
    status, reply = await api(server, "POST", "/tournament/create", user=host, json={
        "name": "HORSE main event", "is_public": True, "structure": SPEC, "table_count": 3,
        "players": [{"player_id": pid, "user_id": users[pid].id if pid in users else None,
                     "name": pid} for pid in players]})
    assert status == 201, reply
    tid = reply["data"]["tournament_id"]
    watcher = await Watcher.start(server, humans[1], tid, seconds=600)  # a participant, live
    assert watcher.joined["status"] == "ok"
    seating = {pid: (i // 9 + 1, i % 9 + 1) for i, pid in enumerate(players)}
    book = SnapshotBook(tid, SPEC, seating, table_count=3)
    assert (await api(server, "POST", f"/tournament/{tid}/clock", user=host, json={"action": "start"}))[0] == 200
    assert (await book.submit(server, host))[0] == 200

    rng = random.Random(21)
    seen_seq = 0
    while len(book.stacks) > 1:
        clock.advance(170)
        await server.services.tournaments.advance_due_clocks()
        await follow_clock(server, host, book)
        if not book.on_break:
            alive = sorted(book.stacks)
            loser = rng.choice(alive)
            book.bust(loser, rng.choice([p for p in alive if p != loser]))
        book.table_count = len({t for t, _ in book.seats.values()})
        status, reply = await book.submit(server, host)
        assert status == 200, reply
        if reply["data"]["status"] == "finished":
            break
        new = [e for e in await all_events(server, host, tid) if e["seq"] > seen_seq]
        seen_seq = new[-1]["seq"]
        for event in new:
            if event["event"] == "tournament:balance" and event["data"]["version"] == book.version:
                book.apply_moves(event["data"]["moves"], event["data"]["broken_tables"])
                book.table_count = len({t for t, _ in book.seats.values()})
                status, reply = await book.submit(server, host)
                assert status == 200, reply

    resumed = await follow_clock(server, humans[0], book)
    log = await all_events(server, humans[0], tid)
    rebuilt = replay(log)

    assert resumed["status"] == "finished"
    assert rebuilt["state"] == resumed["state"]
    assert rebuilt["status"] == "finished"
    assert (rebuilt["level"], rebuilt["game"]) == (resumed["clock"]["level"], resumed["clock"]["game"])
    assert rebuilt["last_seq"] == resumed["last_seq"] == len(log)
    places = {r["player_id"]: r["place"] for r in rebuilt["results"]}
    assert sorted(places.values()) == list(range(1, 28))
    assert {pid: places[pid] for pid, _ in book.eliminated} == dict(book.eliminated)
    assert sum(r["chips"] for r in rebuilt["results"]) == 27 * 5000
    # The mixed-game rotation and the breaks are part of the history.
    names = [e["event"] for e in log]
    assert names.count("break:start") == names.count("break:end") >= 2
    assert [s[2] for s in rebuilt["game_switches"]][:3] == ["razz", "stud", "stud8"]
    assert rebuilt["balances"], "busting 26 players must have moved someone"
    assert "final_table" in names
    # The live participant received exactly the log, in order, over Socket.IO.
    live = await watcher.result()
    received = [(e["payload"]["seq"], e["name"]) for e in live["events"]
                if isinstance(e["payload"], dict) and e["payload"].get("room") == f"tournament_{tid}"]
    assert received == [(e["seq"], e["event"]) for e in log if e["seq"] > 1]
    # Tournament results are stored for every participant with an account.
    for pid, user in users.items():
        row = await TournamentHistory.get(user_id=user.id, tournament_id=tid)
        assert row.rank == places[pid]


async def test_a_client_that_left_mid_level_resumes_on_another_device(server):
    clock = FakeClock()
    server.services.tournaments.now = clock
    host = await create_user(server)
    me = await create_user(server, device_id="phone")
    _, reply = await api(server, "POST", "/tournament/create", user=host, json={
        "name": "Evening", "structure": structure([(10, 20, 0, "nlh"), (20, 40, 0, "nlh"),
                                                   (30, 60, 0, "nlh")], breaks={1: 300}),
        "table_count": 1, "players": [{"player_id": "me", "user_id": me.id}, {"player_id": "bot"}]})
    tid = reply["data"]["tournament_id"]
    book = SnapshotBook(tid, SPEC, {"me": (1, 1), "bot": (1, 2)}, table_count=1)
    book.spec = structure([(10, 20, 0, "nlh"), (20, 40, 0, "nlh"), (30, 60, 0, "nlh")])
    await api(server, "POST", f"/tournament/{tid}/clock", user=host, json={"action": "start"})
    clock.advance(200)
    book.stacks = {"me": 1500, "bot": 500}
    assert (await book.submit(server, host))[0] == 200
    before = await follow_clock(server, me, book)
    assert (before["clock"]["level"], before["clock"]["remaining_s"]) == (1, 400)

    # The phone goes away for 20 minutes, with a 5-minute pause in the middle.
    clock.advance(100)
    await api(server, "POST", f"/tournament/{tid}/clock", user=host, json={"action": "pause"})
    clock.advance(300)
    await api(server, "POST", f"/tournament/{tid}/clock", user=host, json={"action": "resume"})
    clock.advance(800)
    await server.services.tournaments.advance_due_clocks()
    book.level = 2
    book.stacks = {"me": 400, "bot": 1600}
    assert (await book.submit(server, host))[0] == 200

    await Device.create(user=me.user, device_id="tablet", name="tablet", platform="pwa")
    tablet = TestUser(me.user, "tablet", server.access_token(me.id, "tablet"))
    after = await follow_clock(server, tablet, book)
    # 200 + 100 + 800 = 1100 s of play: level 1 (600) and the break (300), 200 s into level 2.
    assert (after["clock"]["level"], after["clock"]["on_break"]) == (2, False)
    assert after["clock"]["remaining_s"] == 400
    assert after["state"]["players"] == [{"player_id": "me", "table": 1, "seat": 1, "stack": 400},
                                         {"player_id": "bot", "table": 1, "seat": 2, "stack": 1600}]
    assert after["my_player_id"] == "me"
    missed = [e["event"] for e in (await api(
        server, "GET", f"/tournament/{tid}/events?after_seq={before['last_seq']}", user=tablet))[1]["data"]["events"]]
    assert missed == ["clock:pause", "clock:resume", "break:start", "break:end", "level:up",
                      "tournament:update"]
