"""Rate limits and the login lockout.

Counters live in Redis (keys under `<redis_prefix>:limits`) when REDIS_URL is set, so every
instance sees the same counts, and in memory otherwise. (Per-socket event rates are a token
bucket in the socket's session: a socket lives on one instance, so Redis would buy nothing.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool

from server.errors import RateLimited, Unavailable
from server.settings import Settings

T = TypeVar("T")

log = logging.getLogger(__name__)


class Limits:
    def __init__(self, settings: Settings):
        self._pool: ConnectionPool | None = None
        storage: Storage
        if settings.redis_url:
            self._pool = ConnectionPool.from_url(settings.redis_url, socket_connect_timeout=1.0,
                                                 socket_timeout=2.0)
            storage = RedisStorage("async+" + settings.redis_url, implementation="redispy",
                                   key_prefix=f"{settings.redis_prefix}:limits",
                                   connection_pool=self._pool, wrap_exceptions=True)
            self.backend = "redis"
        else:
            storage = MemoryStorage(wrap_exceptions=True)
            self.backend = "memory"
        # Moving windows for the lockout: a burst at a window edge cannot double the attempts.
        self._lockout = MovingWindowRateLimiter(storage)
        self._requests = FixedWindowRateLimiter(storage)
        self.login_account_rate = parse(settings.login_account_limit)
        self.login_ip_rate = parse(settings.login_ip_limit)
        self.rest_ip_rate = parse(settings.rest_ip_limit)

    async def check_login(self, login: str, ip: str) -> None:
        """Refuse (429) while the account or the address is locked out by failed logins."""
        for rate, key in ((self.login_account_rate, ("login_account", login.lower())),
                          (self.login_ip_rate, ("login_ip", ip))):
            if not await self._call(self._lockout.test, rate, *key):
                raise RateLimited("too many failed logins: try again later",
                                  retry_after=await self._retry_after(self._lockout, rate, key))

    async def login_failed(self, login: str, ip: str) -> None:
        await self._call(self._lockout.hit, self.login_account_rate, "login_account", login.lower())
        await self._call(self._lockout.hit, self.login_ip_rate, "login_ip", ip)

    async def login_succeeded(self, login: str) -> None:
        # The address keeps its count: one good login must not reset a password-spraying run.
        await self._call(self._lockout.clear, self.login_account_rate, "login_account",
                         login.lower())

    async def hit_request(self, ip: str) -> None:
        """Count one REST request from `ip`; 429 once over the per-address rate.

        Unlike the login lockout this fails open: a Redis outage must not take every REST
        route down with it (the lockout still guards the password check)."""
        try:
            await self._hit(self._requests, self.rest_ip_rate, ("rest_ip", ip))
        except Unavailable:
            log.warning("rate limiter unreachable: REST request from %s let through", ip)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    async def _hit(self, limiter: RateLimiter, rate: RateLimitItem, key: tuple[str, ...]) -> None:
        if not await self._call(limiter.hit, rate, *key):
            raise RateLimited(retry_after=await self._retry_after(limiter, rate, key))

    async def _retry_after(self, limiter: RateLimiter, rate: RateLimitItem,
                           key: tuple[str, ...]) -> float:
        stats = await self._call(limiter.get_window_stats, rate, *key)
        return max(1.0, stats.reset_time - time.time())

    @staticmethod
    async def _call(method: Callable[..., Awaitable[T]], *args: object) -> T:
        try:
            return await method(*args)
        except StorageError as exc:
            # Fail closed: an unreachable limiter must not turn into unlimited login attempts.
            raise Unavailable("rate limiter unavailable") from exc
