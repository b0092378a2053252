"""Object storage for model files: a local directory by default, S3-compatible in production.

Both stores speak the same small interface so services never know which one they use.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

if TYPE_CHECKING:
    from server.settings import Settings

# Longest lifetime any download URL may have, whatever the caller asks for.
MAX_URL_TTL = 300
LOCAL_DOWNLOAD_PATH = "/api/v1/ai/download"


class BlobStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str = ...) -> None: ...
    async def put_file(self, key: str, path: Path, content_type: str = ...) -> None: ...
    async def get(self, key: str) -> bytes: ...
    async def exists(self, key: str) -> bool: ...
    async def delete(self, key: str) -> None: ...
    async def ping(self) -> None: ...
    async def presign_get(self, key: str, expires_in: int) -> str: ...


def _safe_key(key: str) -> str:
    parts = key.split("/")
    if not key or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"unsafe object key: {key!r}")
    return key


def download_signing_key(secret: str) -> bytes:
    """A key for local download URLs, separate from (but derived from) the JWT secret."""
    return hmac.new(secret.encode(), b"feltsync model download url", hashlib.sha256).digest()


class LocalBlobStore:
    """Files under one directory; downloads go through the app by HMAC-signed URL."""

    def __init__(self, root: Path, signing_key: bytes = b"", url_path: str = LOCAL_DOWNLOAD_PATH):
        self.root = root
        self._signing_key = signing_key
        self.url_path = url_path

    def path_for(self, key: str) -> Path:
        return self.root / _safe_key(key)

    async def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self.path_for(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(data)
            os.replace(tmp, path)

        await asyncio.to_thread(write)

    async def put_file(self, key: str, path: Path,
                       content_type: str = "application/octet-stream") -> None:
        target = self.path_for(key)

        def copy() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(target.suffix + ".part")
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)

        await asyncio.to_thread(copy)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path_for(key).read_bytes)

    async def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path_for(key).unlink, missing_ok=True)

    async def ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def _signature(self, key: str, expires: int) -> str:
        if not self._signing_key:
            raise RuntimeError("this local store has no signing key")
        mac = hmac.new(self._signing_key, f"{key}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    async def presign_get(self, key: str, expires_in: int, *, now: float | None = None) -> str:
        """An app-relative URL that serves `key` until `expires_in` seconds from now."""
        expires = int(now if now is not None else time.time()) + min(expires_in, MAX_URL_TTL)
        return (f"{self.url_path}/{quote(_safe_key(key))}"
                f"?expires={expires}&sig={self._signature(key, expires)}")

    def verify_signed(self, key: str, expires: str, signature: str) -> bool:
        """True when the URL was signed by this store for `key` and has not expired."""
        if not expires.isdigit() or len(expires) > 12 or len(signature) > 64:
            return False
        try:
            _safe_key(key)
        except ValueError:
            return False
        expected = self._signature(key, int(expires))
        return hmac.compare_digest(expected, signature) and int(expires) >= time.time()


class S3BlobStore:
    def __init__(self, client: Any, bucket: str):
        self.client = client
        self.bucket = bucket

    async def ensure_bucket(self) -> None:
        try:
            await self.client.head_bucket(Bucket=self.bucket)
        except self.client.exceptions.ClientError:
            await self.client.create_bucket(Bucket=self.bucket)

    async def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        await self.client.put_object(Bucket=self.bucket, Key=_safe_key(key), Body=data,
                                     ContentType=content_type)

    async def put_file(self, key: str, path: Path,
                       content_type: str = "application/octet-stream") -> None:
        with path.open("rb") as body:
            await self.client.put_object(Bucket=self.bucket, Key=_safe_key(key), Body=body,
                                         ContentType=content_type)

    async def delete(self, key: str) -> None:
        await self.client.delete_object(Bucket=self.bucket, Key=_safe_key(key))

    async def get(self, key: str) -> bytes:
        response = await self.client.get_object(Bucket=self.bucket, Key=_safe_key(key))
        async with response["Body"] as stream:
            return await stream.read()

    async def exists(self, key: str) -> bool:
        try:
            await self.client.head_object(Bucket=self.bucket, Key=_safe_key(key))
            return True
        except self.client.exceptions.ClientError:
            return False

    async def ping(self) -> None:
        await self.client.head_bucket(Bucket=self.bucket)

    async def presign_get(self, key: str, expires_in: int) -> str:
        return await self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": _safe_key(key)},
            ExpiresIn=min(expires_in, MAX_URL_TTL),
        )


@contextlib.asynccontextmanager
async def open_blob_store(settings: Settings) -> AsyncIterator[LocalBlobStore | S3BlobStore]:
    """The store the settings describe: S3 when an endpoint is set, else the local directory."""
    if not settings.s3_endpoint_url:
        yield LocalBlobStore(settings.model_dir, download_signing_key(settings.jwt_secret))
        return
    async with get_session().create_client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id or None,
        aws_secret_access_key=settings.s3_secret_access_key or None,
        config=AioConfig(signature_version="s3v4"),
    ) as client:
        yield S3BlobStore(client, settings.s3_bucket)
