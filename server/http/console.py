"""The admin console page at `/console/`: static files only, never a directory listing.

The page holds nothing secret: it signs in through the API and everything it shows comes over
the socket after `console:subscribe`, which only administrators pass. It talks to the server
through the SDK bundle (sdk/dist, built by `make sdk`).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from server.http.pwa import SDK_DIR, static_file

routes = web.RouteTableDef()

PAGE_DIR = Path(__file__).with_name("static") / "console"
FILES: dict[str, tuple[Path, str]] = {
    "index.html": (PAGE_DIR / "index.html", "text/html; charset=utf-8"),
    "console.js": (PAGE_DIR / "console.js", "text/javascript; charset=utf-8"),
    "console.css": (PAGE_DIR / "console.css", "text/css; charset=utf-8"),
    "feltsync.js": (SDK_DIR / "dist" / "feltsync.js", "text/javascript; charset=utf-8"),
}


@routes.get("/console")
async def console_root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect("/console/")


@routes.get("/console/")
async def page(request: web.Request) -> web.StreamResponse:
    return _file("index.html")


@routes.get("/console/{name}")
async def asset(request: web.Request) -> web.StreamResponse:
    return _file(request.match_info["name"])


def _file(name: str) -> web.StreamResponse:
    return static_file(FILES, name, "the console")
