"""A small REST client for tests: returns (status, envelope) for a call to a running app."""

from __future__ import annotations

from typing import Any

import aiohttp


async def api(app: Any, method: str, path: str, *, user: Any = None, json: Any = None,
              headers: dict[str, str] | None = None, **kw: Any) -> tuple[int, dict[str, Any]]:
    all_headers = dict(headers or {})
    if user is not None:
        all_headers["Authorization"] = f"Bearer {user.token}"
    async with aiohttp.ClientSession() as http:
        async with http.request(method, app.url + "/api/v1" + path, json=json,
                                headers=all_headers, **kw) as resp:
            return resp.status, await resp.json()
