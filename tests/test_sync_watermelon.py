"""The real WatermelonDB 0.28 (LokiJS adapter, in Node) as the client: two devices of one user."""

from __future__ import annotations

import json

from models.accounts import Device as DeviceRow
from models.accounts import User, UserSettings
from models.history import HandHistory, MixedGameHistory, TournamentHistory
from tests.factories import create_user
from tests.jsclient import run_node

TABLES = {
    "hands": (HandHistory, "hand_id", ("game_type", "tournament_id", "record_json")),
    "tournament_results": (TournamentHistory, "tournament_id", ("result_json", "rank", "chips")),
    "mixed_games": (
        MixedGameHistory,
        "record_id",
        ("tournament_id", "from_game", "to_game", "record_json"),
    ),
}
JSON_COLUMNS = {"record_json", "result_json"}


async def server_rows(user_id: int) -> dict[str, list[dict]]:
    """What the server holds for the user, in the shape a WatermelonDB device holds it."""
    out = {}
    for table, (model, key, columns) in TABLES.items():
        rows = await model.filter(user_id=user_id, deleted=False)
        out[table] = sorted(
            ({"id": getattr(r, key), **{c: getattr(r, c) for c in columns}} for r in rows),
            key=lambda r: r["id"],
        )
    return out


def normalised(rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {
        table: sorted(
            (
                {
                    k: (json.loads(v) if k in JSON_COLUMNS and isinstance(v, str) else v)
                    for k, v in row.items()
                }
                for row in table_rows
            ),
            key=lambda r: r["id"],
        )
        for table, table_rows in rows.items()
    }


def nothing(pull: dict) -> bool:
    return all(not any(bucket.values()) for bucket in pull.values())


async def test_two_watermelondb_devices_converge_through_conflicts_deletes_and_a_lost_response(
    server, node_ready
):
    user = await create_user(server)
    tokens = []
    for name in ("phone", "tablet", "fresh"):
        await DeviceRow.create(user_id=user.id, device_id=name, name=name, platform="pwa")
        tokens.append(server.access_token(user.id, name))
    result = await run_node("watermelon_sync.mjs", server.url, *tokens, timeout=90)
    assert "error" not in result, result.get("error")
    ids = result["ids"]

    # First sync on both: each device got exactly what the other created, nothing of its own.
    phone_pulls, tablet_pulls = (
        result["steps"]["first"]["phone"],
        result["steps"]["first"]["tablet"],
    )
    # The phone's very first pull holds only the user's own profile record.
    assert phone_pulls[0]["profile"]["created"] == [str(user.id)]
    assert nothing({t: c for t, c in phone_pulls[0].items() if t != "profile"})
    assert sorted(tablet_pulls[0]["hands"]["created"]) == sorted([ids["h1"], ids["h2"]])
    assert phone_pulls[1]["hands"]["created"] == [ids["h3"]]
    assert phone_pulls[1]["tournament_results"]["created"] == [ids["t1"]]

    # The push that raced the other device's push was refused whole with 409, then retried.
    assert result["conflict"] == 409
    assert 409 in result["push_statuses"]["tablet"]

    # The lost push response: the retry's pull does not echo the phone's own record back.
    assert result["lost"] == "push response lost"
    assert ids["h5"] not in json.dumps(result["retry_pull"])
    assert nothing(result["quiet"]["phone"]) and nothing(result["quiet"]["tablet"])

    # Every device ends identical to the server, deleted records stay deleted.
    expected = normalised(await server_rows(user.id))
    for name in ("phone", "tablet", "fresh"):
        assert normalised(result["rows"][name]) == expected, name
    hands = {r["id"]: r for r in expected["hands"]}
    assert ids["h2"] not in hands
    assert await HandHistory.filter(user_id=user.id, hand_id=ids["h2"], deleted=True).exists()
    assert hands[ids["h1"]]["game_type"] == "razz" and hands[ids["h1"]]["record_json"] == {
        "pot": 100
    }
    assert hands[ids["h3"]]["game_type"] == "stud"  # the tablet's later edit won after it pulled
    assert ids["h5"] in hands
    assert await HandHistory.filter(user_id=user.id, hand_id=ids["h5"]).count() == 1
    assert expected["tournament_results"][0]["rank"] == 1
    assert [r["to_game"] for r in expected["mixed_games"]] == ["stud"]
    assert not result["first_sync_of_fresh_device"]["hands"]["deleted"]

    # WatermelonDB complained about nothing (no echoed creates, no updates of missing rows).
    assert result["complaints"] == []


async def test_two_watermelondb_devices_share_the_settings_and_profile_records(server, node_ready):
    user = await create_user(server)
    await UserSettings.create(user_id=user.id)
    tokens = []
    for name in ("phone", "tablet"):
        await DeviceRow.create(user_id=user.id, device_id=name, name=name, platform="pwa")
        tokens.append(server.access_token(user.id, name))
    result = await run_node("watermelon_settings.mjs", server.url, str(user.id), *tokens,
                            timeout=60)
    assert "error" not in result, result.get("error")
    record = {"id": str(user.id), "se_on": True, "bgm_on": True, "theme": "classic",
              "card_skin": "standard", "version": 1}
    assert result["first"] == {"phone": [record], "tablet": [record]}
    # The server counts versions; a device learns the new one on its next pull.
    edited = {**record, "theme": "dark", "bgm_on": False}
    assert result["after_phone"]["tablet"] == [{**edited, "version": 2}]
    # Edits of different columns on two devices both survive (WatermelonDB keeps the local
    # column changes it pulls over, then pushes the merged record).
    row = await UserSettings.get(user_id=user.id)
    final = {**edited, "card_skin": "gold", "se_on": False, "version": row.version}
    assert (row.theme, row.bgm_on, row.card_skin, row.se_on) == ("dark", False, "gold", False)
    assert result["after_both"]["phone"] == [final]
    assert 409 not in result["push_statuses"]["tablet"]
    profile = {"id": str(user.id), "nickname": "player", "avatar": None, "country": None,
               "version": 1}
    assert result["profile_first"] == {"phone": [profile], "tablet": [profile]}
    assert result["profile_after_phone"] == [
        {**profile, "nickname": "River", "country": "JP", "version": 2}]
    user_row = await User.get(id=user.id)
    assert (user_row.nickname, user_row.country, user_row.version) == ("River", "JP", 2)
    assert result["complaints"] == []
