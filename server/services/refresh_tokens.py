"""Refresh tokens: opaque, stored only as a SHA-256 hash, rotated on every use.

Each login starts a family. Using a token marks it used and issues its successor in the same
transaction (a conditional update: of two concurrent uses exactly one wins). Presenting a used
token again means it was copied, so the whole family is revoked - except within the grace
window, when the client most likely lost the response: it gets the same successor pair again,
as long as that successor has not been used yet.

To hand back the same pair, the successor is kept on the used row, sealed (AES-GCM) with a key
derived by HKDF from the used token's own secret. The database never holds that secret, so a
database reader cannot open the sealed pair, and only the client holding the old token can.
The sealed value is dropped as soon as the successor itself is rotated.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.accounts import Device, RefreshToken
from server import jsonutil
from server.errors import Unauthorized
from server.services.tokens import TokenService

MAX_TOKEN_CHARS = 256


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    user_id: int
    device_id: str
    access_expires_at: int

    def response(self, now: float) -> dict[str, object]:
        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "token_type": "bearer", "user_id": self.user_id, "device_id": self.device_id,
                "expires_in": max(0, self.access_expires_at - int(now))}


class RefreshReused(Unauthorized):
    """A used refresh token came back after the grace window: its family is now revoked."""

    code = "refresh_reused"
    default_message = "this refresh token was already used: the session is revoked, log in again"

    def __init__(self, user_id: int, device: Device):
        super().__init__()
        self.user_id = user_id
        self.device = device


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _seal_key(token: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"feltsync refresh successor").derive(token.encode())


def seal(token: str, pair: TokenPair) -> str:
    nonce = os.urandom(12)
    body = jsonutil.dumps_bytes({"a": pair.access_token, "r": pair.refresh_token,
                                 "e": pair.access_expires_at})
    sealed = AESGCM(_seal_key(token)).encrypt(nonce, body, token_hash(token).encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(token: str, sealed: str, user_id: int, device_id: str) -> TokenPair | None:
    raw = base64.urlsafe_b64decode(sealed.encode())
    try:
        body = AESGCM(_seal_key(token)).decrypt(raw[:12], raw[12:], token_hash(token).encode())
    except InvalidTag:
        return None
    data = jsonutil.loads(body)
    return TokenPair(data["a"], data["r"], user_id, device_id, int(data["e"]))


def _now() -> datetime:
    return datetime.now(UTC)


class RefreshTokens:
    def __init__(self, tokens: TokenService, ttl_seconds: int, grace_seconds: int):
        self.tokens = tokens
        self.ttl = timedelta(seconds=ttl_seconds)
        self.grace_seconds = grace_seconds

    async def start_family(self, db: BaseDBAsyncClient, user_id: int, device: Device) -> TokenPair:
        """A new family (one per login) and its first pair."""
        pair, _ = await self._issue(db, user_id, device, uuid.uuid4())
        return pair

    async def rotate(self, presented: object) -> TokenPair:
        """Exchange a refresh token for a new pair (see the module docstring for the rules)."""
        if not isinstance(presented, str) or not presented or len(presented) > MAX_TOKEN_CHARS:
            raise Unauthorized("invalid refresh token")
        row = await RefreshToken.get_or_none(token_hash=token_hash(presented)).select_related("device")
        if row is None or row.revoked_at is not None or row.device.revoked_at is not None:
            raise Unauthorized("invalid refresh token")
        if row.expires_at <= _now():
            raise Unauthorized("the refresh token has expired: log in again")
        if row.used_at is None:
            async with in_transaction() as db:
                now = _now()
                claimed = await RefreshToken.filter(id=row.id, used_at=None, revoked_at=None) \
                    .using_db(db).update(used_at=now)
                if claimed:
                    pair, successor = await self._issue(db, row.user_id, row.device, row.family_id)
                    await RefreshToken.filter(id=row.id).using_db(db).update(
                        successor_id=successor.id, successor_sealed=seal(presented, pair))
                    # The predecessor's sealed copy of this token is no longer needed.
                    await RefreshToken.filter(family_id=row.family_id, successor_id=row.id) \
                        .using_db(db).update(successor_sealed=None)
                    return pair
            # A concurrent use won the claim and has committed: fall through to the grace rules.
            row = await RefreshToken.get(id=row.id).select_related("device")
        again = await self._grace_pair(presented, row)
        if again is not None:
            return again
        await self.revoke_family(row.family_id)
        raise RefreshReused(row.user_id, row.device)

    async def _grace_pair(self, presented: str, row: RefreshToken) -> TokenPair | None:
        if (self.grace_seconds <= 0 or row.revoked_at is not None or row.used_at is None
                or row.successor_sealed is None
                or row.successor_id is None
                or (_now() - row.used_at).total_seconds() > self.grace_seconds):
            return None
        successor = await RefreshToken.get_or_none(id=row.successor_id)
        if successor is None or successor.used_at is not None or successor.revoked_at is not None:
            return None
        return unseal(presented, row.successor_sealed, row.user_id, row.device.device_id)

    async def revoke_family(self, family_id: uuid.UUID, db: BaseDBAsyncClient | None = None) -> None:
        await RefreshToken.filter(family_id=family_id, revoked_at=None).using_db(db) \
            .update(revoked_at=_now(), successor_sealed=None)

    async def revoke_device(self, db: BaseDBAsyncClient, device_pk: int) -> None:
        """Every family of one device (logout, device revoke)."""
        await RefreshToken.filter(device_id=device_pk, revoked_at=None).using_db(db) \
            .update(revoked_at=_now(), successor_sealed=None)

    async def _issue(self, db: BaseDBAsyncClient, user_id: int, device: Device,
                     family_id: uuid.UUID) -> tuple[TokenPair, RefreshToken]:
        secret = secrets.token_urlsafe(32)
        row = await RefreshToken.create(user_id=user_id, device_id=device.id, family_id=family_id,
                                        token_hash=token_hash(secret),
                                        expires_at=_now() + self.ttl, using_db=db)
        access, expires_at = self.tokens.issue_access(user_id, device.device_id,
                                                      generation=device.session_generation)
        return TokenPair(access, secret, user_id, device.device_id, expires_at), row
