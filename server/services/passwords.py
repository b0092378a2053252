"""Password hashing: bcrypt, always in a worker thread so the event loop never stalls."""

from __future__ import annotations

import asyncio

import bcrypt

# bcrypt only reads the first 72 bytes; longer passwords would silently collide.
MAX_PASSWORD_BYTES = 72


def too_long(password: str) -> bool:
    return len(password.encode()) > MAX_PASSWORD_BYTES


class PasswordHasher:
    def __init__(self, cost: int):
        self.cost = cost
        self._dummy_hash: bytes | None = None

    async def hash(self, password: str) -> str:
        """The bcrypt hash of `password`; callers reject passwords over 72 bytes first."""
        if too_long(password):
            raise ValueError("password is longer than 72 bytes")
        salt = bcrypt.gensalt(self.cost)
        hashed = await asyncio.to_thread(bcrypt.hashpw, password.encode(), salt)
        return hashed.decode()

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """True only when `password` matches. An unknown account (`None`) still costs a full
        bcrypt check, so response time does not tell which logins exist."""
        candidate = password.encode()
        if too_long(password):
            # Never true, but costs the same as a real check.
            candidate = b"x"
        if password_hash is None or not password_hash.startswith("$2"):
            await asyncio.to_thread(bcrypt.checkpw, candidate, await self._dummy())
            return False
        try:
            matched = await asyncio.to_thread(bcrypt.checkpw, candidate, password_hash.encode())
        except ValueError:
            return False
        return matched and not too_long(password)

    async def _dummy(self) -> bytes:
        if self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(
                bcrypt.hashpw, b"not a real password", bcrypt.gensalt(self.cost))
        return self._dummy_hash
