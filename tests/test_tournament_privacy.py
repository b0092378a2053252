"""Hidden information never reaches a spectator or another player: every raw frame is inspected."""

import json

import pytest

from tests.apiclient import api
from tests.factories import create_user
from tests.tournament_kit import FakeClock, SnapshotBook, Watcher, structure

pytestmark = pytest.mark.usefixtures("node_ready")

SPEC = structure([(10, 20, 0, "nlh"), (20, 40, 0, "nlh")], stack=1000, seats=6)
SECRET_A, SECRET_B = "As-Kd-secret-of-a", "Qh-Qc-secret-of-b"


async def test_spectators_and_other_players_never_see_private_fields(sqlite_server):
    server = sqlite_server
    server.services.tournaments.now = FakeClock()
    host, alice, bob, spectator = [await create_user(server) for _ in range(4)]
    status, reply = await api(server, "POST", "/tournament/create", user=host, json={
        "name": "open", "is_public": True, "structure": SPEC, "table_count": 1,
        "players": [{"player_id": "a", "user_id": alice.id}, {"player_id": "b", "user_id": bob.id},
                    {"player_id": "c"}]})
    tid = reply["data"]["tournament_id"]
    watchers = {name: await Watcher.start(server, user, tid)
                for name, user in (("alice", alice), ("bob", bob), ("spectator", spectator))}
    assert all(w.joined["status"] == "ok" for w in watchers.values())

    await api(server, "POST", f"/tournament/{tid}/clock", user=host, json={"action": "start"})
    book = SnapshotBook(tid, SPEC, {"a": (1, 1), "b": (1, 2), "c": (1, 3)}, table_count=1)
    privates = {"a": {"hole_cards": SECRET_A}, "b": {"hole_cards": SECRET_B}}

    def with_privates(body):
        for row in body["player_stacks"]:
            if row["player_id"] in privates:
                row["private"] = privates[row["player_id"]]
        return body["player_stacks"]

    assert (await book.submit(server, host, player_stacks=with_privates(book.body())))[0] == 200
    book.bust("c", "a")
    assert (await book.submit(server, host, player_stacks=with_privates(book.body())))[0] == 200
    book.bust("b", "a")
    assert (await book.submit(server, host, player_stacks=with_privates(book.body())))[0] == 200

    seen = {name: await w.result() for name, w in watchers.items()}
    for name, result in seen.items():
        assert "error" not in result, (name, result)
        assert any(e["name"] == "tournament:finished" for e in result["events"]), name
    spectator_frames = "\n".join(seen["spectator"]["frames"])
    assert "tournament:update" in spectator_frames
    assert SECRET_A not in spectator_frames and SECRET_B not in spectator_frames
    assert "private" not in spectator_frames and "hole_cards" not in spectator_frames
    alice_frames = "\n".join(seen["alice"]["frames"])
    assert SECRET_A in alice_frames and SECRET_B not in alice_frames
    bob_frames = "\n".join(seen["bob"]["frames"])
    assert SECRET_B in bob_frames and SECRET_A not in bob_frames

    status, reply = await api(server, "GET", f"/tournament/resume/{tid}", user=alice)
    assert reply["data"]["my_private"] == {"hole_cards": SECRET_A}
    status, reply = await api(server, "GET", f"/tournament/resume/{tid}", user=bob)
    assert reply["data"]["my_private"] is None  # bob is out: the last snapshot has nothing of his
    assert SECRET_A not in json.dumps(reply)
    status, reply = await api(server, "GET", f"/tournament/{tid}/events", user=spectator)
    assert status == 200 and "hole_cards" not in json.dumps(reply)


async def test_a_private_tournament_refuses_a_non_participant_join(sqlite_server):
    server = sqlite_server
    host, player, outsider = [await create_user(server) for _ in range(3)]
    _, reply = await api(server, "POST", "/tournament/create", user=host, json={
        "name": "private", "structure": SPEC, "table_count": 1,
        "players": [{"player_id": "a", "user_id": player.id}, {"player_id": "b"}]})
    tid = reply["data"]["tournament_id"]
    refused = await Watcher.start(server, outsider, tid)
    assert refused.joined["status"] == "error" and refused.joined["error"]["code"] == "forbidden"
    result = await refused.result()
    assert "refused" in result
    allowed = await Watcher.start(server, player, tid)
    assert allowed.joined["status"] == "ok"
    allowed.proc.kill()
    await allowed.proc.wait()
