"""Model object storage over a real S3 wire protocol (moto server) and the local default."""

import pytest
from aiobotocore.session import get_session

from server.storage.blobs import LocalBlobStore, S3BlobStore


async def test_s3_store_round_trips_over_the_wire(s3_endpoint):
    async with get_session().create_client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                                           aws_access_key_id="test", aws_secret_access_key="test") as client:
        store = S3BlobStore(client, "feltsync-test")
        await store.ensure_bucket()
        await store.ping()
        await store.put("models/pro_v1.onnx", b"\x08\x01model")
        assert await store.exists("models/pro_v1.onnx")
        assert not await store.exists("models/missing.onnx")
        assert await store.get("models/pro_v1.onnx") == b"\x08\x01model"
        url = await store.presign_get("models/pro_v1.onnx", 60)
        assert "Signature" in url or "X-Amz-Signature" in url


async def test_local_store_round_trips_and_refuses_path_escapes(tmp_path):
    store = LocalBlobStore(tmp_path / "models")
    await store.put("pro/pro_v1.onnx", b"abc")
    assert await store.get("pro/pro_v1.onnx") == b"abc"
    for bad in ("../etc/passwd", "/abs", "a//b", ""):
        with pytest.raises(ValueError):
            await store.put(bad, b"x")


async def test_app_uses_s3_when_configured(start_app, make_settings, s3_endpoint):
    from server import keys

    app = await start_app(make_settings(s3_endpoint_url=s3_endpoint, s3_bucket="feltsync-app",
                                        s3_access_key_id="test", s3_secret_access_key="test"))
    store = app.app[keys.BLOBS]
    assert isinstance(store, S3BlobStore)
    await store.put("x/y.bin", b"1")
    assert await store.get("x/y.bin") == b"1"
