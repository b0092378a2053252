"""Access tokens: JWT, HS256 only, every registered claim required."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

from server.errors import AuthExpired, Unauthorized

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "typ", "aud"]


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    device_id: str
    jti: str
    expires_at: int
    generation: int = 0  # the device's session generation when issued (see Device)


class TokenService:
    def __init__(self, secret: str, audience: str, access_ttl: int):
        if not secret:
            raise ValueError("a JWT secret is required")
        self._secret = secret
        self.audience = audience
        self.access_ttl = access_ttl

    def issue_access(self, user_id: int, device_id: str, *, now: float | None = None,
                     generation: int = 0) -> tuple[str, int]:
        """A signed access token and its expiry (unix seconds)."""
        issued = int(now if now is not None else time.time())
        expires = issued + self.access_ttl
        claims = {
            "sub": str(user_id), "did": device_id, "typ": "access", "aud": self.audience,
            "iat": issued, "nbf": issued, "exp": expires, "jti": uuid.uuid4().hex, "gen": generation,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires

    def verify_access(self, token: object) -> AccessClaims:
        """Decode and check an access token; any defect is `unauthorized`, expiry `auth_expired`."""
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise Unauthorized("missing or malformed access token")
        try:
            # The algorithm list is pinned: `none` and every other algorithm are refused
            # before any claim is read.
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM], audience=self.audience,
                                options={"require": REQUIRED_CLAIMS})
        except jwt.ExpiredSignatureError as exc:
            raise AuthExpired() from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("invalid access token") from exc
        if claims.get("typ") != "access":
            raise Unauthorized("not an access token")
        sub, device_id = claims.get("sub"), claims.get("did", "")
        generation = claims.get("gen", 0)
        if (not isinstance(sub, str) or not sub.isdigit() or not isinstance(device_id, str)
                or type(generation) is not int):
            raise Unauthorized("invalid access token")
        return AccessClaims(user_id=int(sub), device_id=device_id, jti=str(claims["jti"]),
                            expires_at=int(claims["exp"]), generation=generation)
