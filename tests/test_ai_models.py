"""Model registry on the embedded default store (local directory, HMAC-signed URLs served by
the app), on SQLite and PostgreSQL: publish, metadata, signed download with ETag and Range,
rollback, the update check, and every refusal leaving nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import pytest

from models.ai import AiModel, AiModelFamily
from server import keys
from tests.factories import create_user
from tests.onnx_builders import external_data_model, sha256, tiny_model
from tests.services import ROOT

API = "/api/v1"


def unique_family(base: str) -> str:
    """PostgreSQL is shared by the whole test session: each test names its own families."""
    return base + uuid.uuid4().hex[:8]


async def publish(app, user, data: bytes, family: str, version: str, **params: str):
    query = {"family": family, "version": version, **params}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{app.url}{API}/ai/model/publish", params=query, data=data,
                             headers={**user.headers, "Content-Type": "application/octet-stream"}
                             ) as resp:
            return resp.status, await resp.json()


async def get_json(app, user, path: str, **params: str):
    async with (
            aiohttp.ClientSession() as http,
            http.get(f"{app.url}{API}{path}", params=params, headers=user.headers) as resp,
    ):
        return resp.status, await resp.json()


def stored_files(app) -> list[str]:
    root = app.settings.model_dir
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) \
        if root.exists() else []


async def test_published_model_is_served_by_signed_url_with_sha256_etag_and_range(server):
    admin = await create_user(server, is_admin=True)
    player = await create_user(server)
    data = tiny_model(2.0)
    pro = unique_family("pro")

    status, body = await publish(server, admin, data, pro, f"{pro}_v1", type="pro")
    assert status == 201, body
    meta = body["data"]
    assert meta["version"] == f"{pro}_v1" and meta["family"] == pro and meta["type"] == "pro"
    assert meta["sha256"] == sha256(data) and meta["size"] == len(data)
    assert meta["inputs"] == [{"name": "obs", "type": "tensor(float)", "shape": ["batch", 4]}]
    assert meta["outputs"] == [{"name": "logits", "type": "tensor(float)", "shape": ["batch", 4]}]

    status, body = await get_json(server, player, "/ai/model/latest", family=pro)
    assert status == 200, body
    latest = body["data"]
    assert latest["version"] == f"{pro}_v1" and latest["sha256"] == sha256(data)
    assert 0 < latest["expires_at"] - __import__("time").time() <= 300

    async with aiohttp.ClientSession() as http:
        async with http.get(latest["url"]) as resp:  # no bearer token: the signature is the key
            assert resp.status == 200
            content = await resp.read()
            etag = resp.headers["ETag"]
        assert sha256(content) == sha256(data)
        async with http.get(latest["url"], headers={"Range": "bytes=10-"}) as resp:
            assert resp.status == 206
            assert await resp.read() == data[10:]
            assert resp.headers["Content-Range"] == f"bytes 10-{len(data) - 1}/{len(data)}"
        async with http.get(latest["url"], headers={"If-None-Match": etag}) as resp:
            assert resp.status == 304

        status, body = await get_json(server, player, f"/ai/model/{pro}_v1")
        assert status == 200 and body["data"]["sha256"] == sha256(data)
        async with http.get(f"{server.url}{API}/ai/model/{pro}_v1", params={"download": "1"},
                            headers=player.headers, allow_redirects=False) as resp:
            assert resp.status == 302
            location = resp.headers["Location"]
        async with http.get(location) as resp:
            assert resp.status == 200 and sha256(await resp.read()) == sha256(data)


def tampered(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    path = changes.pop("path", parts.path)
    query.update(changes)
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))


async def test_tampered_or_expired_local_download_url_is_refused(sqlite_server):
    admin = await create_user(sqlite_server, is_admin=True)
    await publish(sqlite_server, admin, tiny_model(), "pro", "pro_v1")
    await publish(sqlite_server, admin, tiny_model(3.0), "pro", "pro_v2")
    _, body = await get_json(sqlite_server, admin, "/ai/model/pro_v2")
    url = body["data"]["url"]
    _, other = await get_json(sqlite_server, admin, "/ai/model/pro_v1")
    other_path = urlsplit(other["data"]["url"]).path
    query = dict(parse_qsl(urlsplit(url).query))

    store = sqlite_server.app[keys.BLOBS]
    key = (await AiModel.get(version="pro_v2")).file_path
    expired = sqlite_server.url + await store.presign_get(key, 60, now=__import__("time").time() - 120)
    bad_urls = [
        tampered(url, sig=query["sig"][:-2] + ("AA" if query["sig"][-2:] != "AA" else "BB")),
        tampered(url, expires=str(int(query["expires"]) + 3600)),
        tampered(url, path=other_path),  # pro_v1's key with pro_v2's signature
        tampered(url, sig=""),
        expired,
    ]
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as resp:
            assert resp.status == 200
        for bad in bad_urls:
            async with http.get(bad) as resp:
                assert resp.status == 403, bad
                error = (await resp.json())["error"]
                assert error["code"] == "bad_signature"
        async with http.get(sqlite_server.url + f"{API}/ai/download/../../etc/passwd") as resp:
            assert resp.status in (403, 404)


@pytest.mark.parametrize("case", ["not_onnx", "truncated", "external_data", "over_cap", "empty"])
async def test_bad_model_files_are_refused_and_nothing_is_stored(start_app, make_settings, case):
    app = await start_app(make_settings(model_max_bytes=8 * 1024))
    admin = await create_user(app, is_admin=True)
    good = tiny_model()
    files = {
        "not_onnx": b"PK\x03\x04 this is a zip file, not a model\n" * 20,
        "truncated": good[: len(good) // 2],
        "external_data": external_data_model(),
        "over_cap": tiny_model(width=5000),  # about 20 KB of weights
        "empty": b"",
    }
    status, body = await publish(app, admin, files[case], "pro", "pro_v1")

    expected = {"over_cap": (413, "payload_too_large")}.get(case, (422, "invalid_model"))
    assert (status, body["error"]["code"]) == expected, body
    assert body["error"]["message"]
    if case == "external_data":
        assert "external data" in body["error"]["message"]
    assert await AiModel.all().count() == 0 and await AiModelFamily.all().count() == 0
    assert stored_files(app) == []
    status, body = await get_json(app, admin, "/ai/model/latest", family="pro")
    assert status == 404


async def test_publish_is_admin_only_and_checks_names_and_duplicates(sqlite_server):
    admin = await create_user(sqlite_server, is_admin=True)
    player = await create_user(sqlite_server)
    data = tiny_model()

    status, body = await publish(sqlite_server, player, data, "pro", "pro_v1")
    assert (status, body["error"]["code"]) == (403, "forbidden")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sqlite_server.url}{API}/ai/model/publish",
                             params={"family": "pro", "version": "pro_v1"}, data=data) as resp:
            assert resp.status == 401
    for family, version, extra in [("pro", "badugi_v1", {}), ("Pro", "Pro_v1", {}),
                                   ("pro", "pro_v1", {"type": "giant"}),
                                   ("pro", "pro_v1/../x", {})]:
        status, body = await publish(sqlite_server, admin, data, family, version, **extra)
        assert status == 422, (family, version, body)
    status, body = await publish(sqlite_server, admin, data, "pro", "pro_v1", color="red")
    assert status == 422 and body["error"]["code"] == "validation_failed"
    assert stored_files(sqlite_server) == []

    assert (await publish(sqlite_server, admin, data, "pro", "pro_v1"))[0] == 201
    status, body = await publish(sqlite_server, admin, tiny_model(5.0), "pro", "pro_v1")
    assert (status, body["error"]["code"]) == (409, "conflict")
    assert len(stored_files(sqlite_server)) == 1
    status, body = await publish(sqlite_server, admin, data, "pro", "pro_v2", type="per_game")
    assert (status, body["error"]["code"]) == (409, "conflict")  # the family holds pro models
    assert len(stored_files(sqlite_server)) == 1


async def test_rollback_points_latest_back_and_check_reports_it(server):
    admin = await create_user(server, is_admin=True)
    player = await create_user(server)
    v1, v2 = tiny_model(1.0), tiny_model(2.0)
    pro, badugi = unique_family("pro"), unique_family("badugi")
    await publish(server, admin, v1, pro, f"{pro}_v1")
    await publish(server, admin, v2, pro, f"{pro}_v2")
    await publish(server, admin, tiny_model(), badugi, f"{badugi}_v5")
    _, body = await get_json(server, player, "/ai/model/latest", family=pro)
    assert body["data"]["version"] == f"{pro}_v2"

    async def rollback(user, payload):
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{server.url}{API}/ai/model/rollback", json=payload,
                                 headers=user.headers) as resp:
                return resp.status, await resp.json()

    assert (await rollback(player, {"family": pro, "version": f"{pro}_v1"}))[0] == 403
    assert (await rollback(admin, {"family": pro, "version": f"{pro}_v9"}))[0] == 404
    assert (await rollback(admin, {"family": pro, "version": f"{badugi}_v5"}))[0] == 422
    assert (await rollback(admin, {"family": pro, "version": f"{pro}_v2"}))[0] == 409
    assert (await rollback(admin, {"family": pro}))[0] == 422
    status, body = await rollback(admin, {"family": pro, "version": f"{pro}_v1"})
    assert status == 200 and body["data"]["version"] == f"{pro}_v1"

    status, body = await get_json(server, player, "/ai/model/latest", family=pro)
    assert body["data"]["version"] == f"{pro}_v1" and body["data"]["sha256"] == sha256(v1)
    async with aiohttp.ClientSession() as http, http.get(body["data"]["url"]) as resp:
        assert sha256(await resp.read()) == sha256(v1)

    held = {pro: f"{pro}_v2", badugi: f"{badugi}_v5", "holdem": "holdem_v1"}
    status, body = await get_json(server, player, "/ai/model/check", **held)
    assert status == 200
    answers = {a["family"]: a for a in body["data"]["models"]}
    assert answers[pro]["model_update_required"] is True and answers[pro]["version"] == f"{pro}_v1"
    assert answers[badugi]["model_update_required"] is False
    assert answers["holdem"]["model_update_required"] is False and answers["holdem"]["known"] is False
    for bad in ({}, {"Pro!": "x"}, {"pro": "v" * 65}):
        assert (await get_json(server, player, "/ai/model/check", **bad))[0] == 400


async def test_metadata_needs_a_token_and_unknown_names_are_404(sqlite_server):
    player = await create_user(sqlite_server)
    async with (
            aiohttp.ClientSession() as http,
            http.get(f"{sqlite_server.url}{API}/ai/model/latest?family=pro") as resp,
    ):
        assert resp.status == 401
    assert (await get_json(sqlite_server, player, "/ai/model/latest", family="pro"))[0] == 404
    assert (await get_json(sqlite_server, player, "/ai/model/latest"))[0] == 422
    assert (await get_json(sqlite_server, player, "/ai/model/pro_v404"))[0] == 404
    assert (await get_json(sqlite_server, player, "/ai/model/pro_v1", download="maybe"))[0] == 422


async def test_multipart_publish(sqlite_server):
    admin = await create_user(sqlite_server, is_admin=True)
    data = tiny_model(7.0)
    form = aiohttp.FormData()
    form.add_field("family", "multihead")
    form.add_field("version", "multihead_v2")
    form.add_field("file", data, filename="m.onnx", content_type="application/octet-stream")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sqlite_server.url}{API}/ai/model/publish", data=form,
                             headers=admin.headers) as resp:
            body = await resp.json()
            assert resp.status == 201, body
    assert body["data"]["type"] == "multi_head" and body["data"]["sha256"] == sha256(data)


async def test_cli_publish_model_is_served_by_a_running_server(start_app, make_settings, tmp_path):
    settings = make_settings()
    app = await start_app(settings)
    player = await create_user(app)
    good, bad = tmp_path / "pro_v7.onnx", tmp_path / "broken.onnx"
    good.write_bytes(tiny_model(7.0))
    bad.write_bytes(b"not a model")
    env = {**os.environ, "VAR_DIR": str(settings.var_dir), "DATABASE_URL": settings.database_url,
           "JWT_SECRET": settings.jwt_secret, "ENV": "test", "LOG_LEVEL": "WARNING"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "server", *args], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=60, check=False)

    refused = cli("publish-model", str(bad), "--family", "pro", "--version", "pro_v6")
    assert refused.returncode == 1 and "invalid_model" in refused.stderr
    done = cli("publish-model", str(good), "--family", "pro", "--version", "pro_v7")
    assert done.returncode == 0, done.stderr
    status, body = await get_json(app, player, "/ai/model/latest", family="pro")
    assert status == 200 and body["data"]["sha256"] == sha256(good.read_bytes())


async def test_a_validator_that_overruns_its_time_limit_is_killed_and_the_file_refused(
        start_app, make_settings):
    app = await start_app(make_settings(model_check_timeout=0.01))
    admin = await create_user(app, is_admin=True)
    status, body = await publish(app, admin, tiny_model(), "pro", "pro_v1")
    assert (status, body["error"]["code"]) == (422, "invalid_model")
    assert "did not load within" in body["error"]["message"]
    assert stored_files(app) == [] and await AiModel.all().count() == 0
