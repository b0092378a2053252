"""Operational endpoints: liveness and readiness."""

from __future__ import annotations

import asyncio

from aiohttp import web

from server import keys
from server.errors import Unavailable
from server.http.envelope import respond
from server.storage.orm import ping_database

routes = web.RouteTableDef()

READINESS_TIMEOUT = 2.0


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return respond({"alive": True, "instance": request.app[keys.SETTINGS].instance_id})


async def _check(name: str, probe: object) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe, READINESS_TIMEOUT)  # type: ignore[arg-type]
        return name, "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return name, f"down: {type(exc).__name__}"


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    probes = [_check("database", ping_database())]
    redis = request.app[keys.REDIS]
    if redis is not None:
        probes.append(_check("redis", redis.ping()))
    checks = dict(await asyncio.gather(*probes))
    if any(state != "ok" for state in checks.values()):
        raise Unavailable("not ready", details=checks, code="not_ready")
    return respond({"ready": True, "checks": checks})
