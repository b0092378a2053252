"""Redis client construction and key naming."""

from __future__ import annotations

from redis.asyncio import Redis


def make_redis(url: str) -> Redis:
    # Short timeouts: a Redis outage must surface as an error quickly, never as a stalled loop.
    return Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=2.0,
                          health_check_interval=10)


def key(prefix: str, *parts: object) -> str:
    return ":".join([prefix, *(str(p) for p in parts)])
