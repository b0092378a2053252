"""The P2P learning buffer: streamed JSON Lines uploads, per-line validation reported by line
number, stats per user and admin totals, and the export command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
import uuid

import aiohttp

from models.ai import RlBuffer
from tests.factories import create_user
from tests.services import ROOT

API = "/api/v1"
JSONL = {"Content-Type": "application/x-ndjson"}


def line(game: str = "badugi", version: str = "badugi_v5", reward: float = 1.0, **extra) -> str:
    record = {"game": game, "model_version": version, "state": {"hand": [1, 2, 3], "pot": 40},
              "action": "raise", "reward": reward, **extra}
    return json.dumps(record, separators=(",", ":"))


async def upload(app, user, body, headers=JSONL):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{app.url}{API}/ai/rl/buffer", data=body,
                             headers={**user.headers, **headers}) as resp:
            return resp.status, await resp.json()


async def stats(app, user):
    async with (
            aiohttp.ClientSession() as http,
            http.get(f"{app.url}{API}/ai/rl/buffer/stats", headers=user.headers) as resp,
    ):
        assert resp.status == 200
        return (await resp.json())["data"]


async def test_valid_lines_are_stored_and_bad_ones_reported_by_line_number(server):
    player = await create_user(server)
    game = "g" + uuid.uuid4().hex[:8]
    lines = [
        line(game, "pro_v3"),                                      # 1 ok
        "{not json",                                               # 2
        "[1, 2, 3]",                                               # 3 not an object
        line(game, "pro_v3", reward=-0.5, done=True, step=4),      # 4 ok
        "",                                                        # 5 blank: skipped
        json.dumps({"game": game, "model_version": "pro_v3", "state": {}, "action": 1}),  # 6 no reward
        line(game, "pro_v3", surprise=1),                          # 7 unknown field
        line("Bad Game!", "pro_v3"),                               # 8 bad game name
        '{"game":"x","model_version":"v","state":{},"action":1,"reward":1e999}',  # 9 not finite
        line(game, "pro_v4"),                                      # 10 ok, no trailing newline
    ]
    status, body = await upload(server, player, "\n".join(lines).encode())

    assert status == 200, body
    report = body["data"]
    assert (report["accepted"], report["rejected"]) == (3, 6)
    assert [e["line"] for e in report["errors"]] == [2, 3, 6, 7, 8, 9]
    errors = {e["line"]: e["error"] for e in report["errors"]}
    assert "JSON" in errors[2] and "object" in errors[3]
    assert errors[6].startswith("reward") and errors[7].startswith("surprise")
    assert errors[8].startswith("game")
    assert report["bytes"] == sum(len(lines[i]) for i in (0, 3, 9))

    stored = await RlBuffer.filter(user_id=player.id).order_by("id")
    assert [json.loads(r.data_jsonl)["reward"] for r in stored] == [1.0, -0.5, 1.0]
    mine = await stats(server, player)
    assert mine["lines"] == 3 and mine["bytes"] == report["bytes"]
    assert [(g["game"], g["model_version"], g["lines"]) for g in mine["by_game_version"]] == [
        (game, "pro_v3", 2), (game, "pro_v4", 1)]
    assert mine["last_upload_at"] is not None
    assert "totals" not in mine


async def test_stats_are_per_user_and_admin_totals_add_up(sqlite_server):
    alice, bob = await create_user(sqlite_server), await create_user(sqlite_server)
    admin = await create_user(sqlite_server, is_admin=True)
    await upload(sqlite_server, alice, "\n".join(line("badugi") for _ in range(5)).encode())
    await upload(sqlite_server, alice, "\n".join(line("razz", "razz_v1") for _ in range(2)).encode())
    await upload(sqlite_server, bob, "\n".join(line("badugi") for _ in range(4)).encode())

    a, b, total = await stats(sqlite_server, alice), await stats(sqlite_server, bob), \
        (await stats(sqlite_server, admin))["totals"]
    assert (a["lines"], b["lines"]) == (7, 4)
    assert total["lines"] == a["lines"] + b["lines"] and total["bytes"] == a["bytes"] + b["bytes"]
    assert total["users"] == 2
    assert {(g["game"], g["lines"]) for g in total["by_game_version"]} == {("badugi", 9), ("razz", 2)}
    assert (await stats(sqlite_server, admin))["lines"] == 0  # the admin's own buffer


async def test_bad_requests_are_refused_and_store_nothing(start_app, make_settings):
    app = await start_app(make_settings(rl_line_max_bytes=512, rl_upload_max_bytes=4096))
    player = await create_user(app)
    status, body = await upload(app, player, line().encode(), headers={"Content-Type": "application/json"})
    assert (status, body["error"]["code"]) == (415, "unsupported_media_type")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{app.url}{API}/ai/rl/buffer", data=line(), headers=JSONL) as resp:
            assert resp.status == 401
        async with http.get(f"{app.url}{API}/ai/rl/buffer/stats?user_id=1",
                            headers=player.headers) as resp:
            assert resp.status == 400

    too_long = line(info={"pad": "x" * 1000})
    status, body = await upload(app, player, f"{line()}\n{too_long}\n{line()}\n".encode())
    assert status == 200
    assert (body["data"]["accepted"], body["data"]["rejected"]) == (2, 1)
    assert body["data"]["errors"] == [{"line": 2, "error": "line is longer than 512 bytes"}]

    before = await RlBuffer.all().count()
    status, body = await upload(app, player, ("\n".join(line() for _ in range(60))).encode())
    assert (status, body["error"]["code"]) == (413, "payload_too_large")

    async def chunked():  # no Content-Length: the cap is found mid-stream, after stored batches
        for _ in range(60):
            yield (line() + "\n").encode()

    status, body = await upload(app, player, chunked())
    assert (status, body["error"]["code"]) == (413, "payload_too_large")
    assert await RlBuffer.all().count() == before


async def test_a_100k_line_upload_streams_with_flat_memory(sqlite_server):
    player = await create_user(sqlite_server)
    lines_total = 100_000
    one = (line("badugi", "badugi_v5", hand_id="h" * 40) + "\n").encode()
    body_size = len(one) * lines_total

    async def body():
        for _ in range(lines_total // 1000):
            yield one * 1000

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        status, reply = await upload(sqlite_server, player, body())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert status == 200, reply
    assert reply["data"]["accepted"] == lines_total and reply["data"]["rejected"] == 0
    assert (await stats(sqlite_server, player))["lines"] == lines_total
    # Client and server share this process: the peak covers both, and still stays a small
    # fraction of the body (which would be held whole, and several times over, if read at once).
    assert body_size > 15_000_000
    assert peak < body_size / 5, (peak, body_size)


async def test_export_command_streams_the_buffer_as_jsonl(start_app, make_settings, tmp_path):
    settings = make_settings()
    app = await start_app(settings)
    player = await create_user(app)
    sent = [line("badugi", f"badugi_v{i % 3}", reward=float(i)) for i in range(25)]
    await upload(app, player, "\n".join(sent).encode())
    env = {**os.environ, "VAR_DIR": str(settings.var_dir), "DATABASE_URL": settings.database_url,
           "JWT_SECRET": settings.jwt_secret, "ENV": "test", "LOG_LEVEL": "WARNING"}
    out = tmp_path / "buffer.jsonl"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "server", "export-rl", *args], env=env,
                              cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)

    done = cli("--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text().splitlines() == sent
    filtered = cli("--model-version", "badugi_v1")
    assert [json.loads(x)["reward"] for x in filtered.stdout.splitlines()] == [
        float(i) for i in range(25) if i % 3 == 1]
