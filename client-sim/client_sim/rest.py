"""feltsync's REST API for the scenarios: bearer auth, the envelope unwrapped, each call timed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Self

import aiohttp

API = "/api/v1"


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    ms: float

    @property
    def ok(self) -> bool:
        return self.status < 300 and isinstance(self.body, dict) and self.body.get("status") == "ok"

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None

    @property
    def error(self) -> str:
        """`<http status> <error code>`, for counting failures by kind."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return f"{self.status} {error.get('code') if isinstance(error, dict) else 'no-envelope'}"


class Rest:
    """One connection pool for many simulated users (each call carries its own token)."""

    def __init__(self, url: str, concurrency: int = 100, timeout: float = 60.0):
        self._base = url.rstrip("/") + API
        self._connector_limit = concurrency
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._connector_limit), timeout=self._timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._session is not None
        await self._session.close()

    async def call(self, method: str, path: str, token: str, *, json: Any = None,
                   params: dict[str, Any] | None = None) -> Reply:
        assert self._session is not None
        started = time.perf_counter()
        try:
            async with self._session.request(method, self._base + path, json=json, params=params,
                                             headers={"Authorization": f"Bearer {token}"}) as res:
                body = await res.json(content_type=None)
                status = res.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # Counted as a failed call with its kind, like an error envelope.
            body = {"status": "error", "error": {"code": type(exc).__name__}}
            status = 0
        return Reply(status, body, (time.perf_counter() - started) * 1000)
