"""Per-address REST rate limit, applied to every /api/ request before anything else runs."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server import keys
from server.http.client_ip import client_ip


@web.middleware
async def limit_requests(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith("/api/"):
        await request.app[keys.SERVICES].limits.hit_request(client_ip(request))
    return await handler(request)
