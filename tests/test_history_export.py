"""`feltsync export`: histories as JSON Lines with stable field names, one user or everyone."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid

import aiohttp

from server.services.export import EXPORT_FIELDS
from tests.factories import create_user
from tests.services import ROOT


async def store(server, user, path, body):
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.url}/api/v1{path}", json=body, headers=user.headers) as res,
    ):
        assert res.status == 200, await res.text()


async def run_export(settings, *args):
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(settings.var_dir),
        "JWT_SECRET": settings.jwt_secret,
        "LOG_LEVEL": "WARNING",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "export",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines()], err.decode()


async def test_export_writes_one_line_per_record_with_stable_fields(server):
    alice = await create_user(server)
    bob = await create_user(server)
    hand_id, tournament, switch = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    await store(
        server,
        alice,
        "/history/hand",
        {
            "hand_id": hand_id,
            "game_type": "nlhe",
            "tournament_id": tournament,
            "record_json": {"pot": 5},
        },
    )
    await store(
        server,
        alice,
        "/history/tournament",
        {"tournament_id": tournament, "result_json": {"prize": 1}, "rank": 2},
    )
    await store(
        server,
        alice,
        "/history/mixed",
        {"record_id": switch, "from_game": "razz", "to_game": "stud", "record_json": {"level": 1}},
    )
    await store(
        server,
        bob,
        "/history/hand",
        {"hand_id": uuid.uuid4().hex, "game_type": "plo", "record_json": {"pot": 9}},
    )

    lines, err = await run_export(server.settings, "--user", str(alice.id))
    assert "exported 3 records" in err
    assert all(tuple(line) == EXPORT_FIELDS for line in lines)
    by_kind = {line["kind"]: line for line in lines}
    assert set(by_kind) == {"hand", "tournament", "mixed"}
    assert by_kind["hand"]["id"] == hand_id and by_kind["hand"]["record"] == {"pot": 5}
    assert by_kind["hand"]["game_type"] == "nlhe" and by_kind["hand"]["tournament_id"] == tournament
    assert by_kind["tournament"]["rank"] == 2 and by_kind["tournament"]["record"] == {"prize": 1}
    assert (by_kind["mixed"]["from_game"], by_kind["mixed"]["to_game"]) == ("razz", "stud")
    assert {line["user_id"] for line in lines} == {alice.id}

    everyone, _ = await run_export(server.settings, "--kind", "hand")
    users = {line["user_id"] for line in everyone}
    assert {alice.id, bob.id} <= users and {line["kind"] for line in everyone} == {"hand"}
