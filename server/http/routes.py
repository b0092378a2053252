"""Every REST route table, mounted once."""

from __future__ import annotations

from aiohttp import web

from server.http import (
    ai,
    auth,
    batch,
    chat,
    console,
    history,
    openapi,
    ops,
    pwa,
    rating,
    rooms,
    sync,
    tournament,
    user,
)

API_PREFIX = "/api/v1"

# Route tables mounted under /api/v1, one module per Spec 21 domain; paths in them are relative.
API_ROUTE_TABLES: list[web.RouteTableDef] = [
    tournament.routes,
    history.routes,
    batch.routes,
    sync.routes,
    ai.routes,
    auth.routes,
    user.routes,
    rating.routes,
    chat.routes,
    rooms.routes,
]


def setup_routes(app: web.Application) -> None:
    app.add_routes(ops.routes)
    app.add_routes(openapi.routes)  # /openapi.json and /docs
    app.add_routes(pwa.routes)  # the reference PWA at /app/, outside the API
    app.add_routes(console.routes)  # the admin console page at /console/
    for table in API_ROUTE_TABLES:
        for route in table:
            assert isinstance(route, web.RouteDef)
            app.router.add_route(route.method, API_PREFIX + route.path, route.handler, **route.kwargs)
