"""The reference PWA at `/app/`: a fixed set of static files, never a directory listing.

The page and its service worker live in sdk/pwa/, the SDK bundle in sdk/dist/ (built by
`make sdk`). Only the names below are served, so no request path reaches the file system.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from server.errors import NotFound, Unavailable

routes = web.RouteTableDef()

SDK_DIR = Path(__file__).resolve().parents[2] / "sdk"
PAGE_DIR = SDK_DIR / "pwa"
FILES: dict[str, tuple[Path, str]] = {
    "index.html": (PAGE_DIR / "index.html", "text/html; charset=utf-8"),
    "app.js": (PAGE_DIR / "app.js", "text/javascript; charset=utf-8"),
    "app.css": (PAGE_DIR / "app.css", "text/css; charset=utf-8"),
    "sw.js": (PAGE_DIR / "sw.js", "text/javascript; charset=utf-8"),
    "manifest.webmanifest": (PAGE_DIR / "manifest.webmanifest", "application/manifest+json"),
    "icon.svg": (PAGE_DIR / "icon.svg", "image/svg+xml"),
    "feltsync.js": (SDK_DIR / "dist" / "feltsync.js", "text/javascript; charset=utf-8"),
}
# Same-origin everything: the SDK talks to this server only (REST, Socket.IO, model files).
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' https: data:; "
                           "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


@routes.get("/app")
async def app_root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect("/app/")


@routes.get("/app/")
async def page(request: web.Request) -> web.StreamResponse:
    return _file("index.html")


@routes.get("/app/{name}")
async def asset(request: web.Request) -> web.StreamResponse:
    return _file(request.match_info["name"])


def _file(name: str) -> web.StreamResponse:
    return static_file(FILES, name, "the app")


def static_file(files: dict[str, tuple[Path, str]], name: str,
                where: str) -> web.StreamResponse:
    """One of a page's listed files (nothing else, never a listing), with its headers."""
    entry = files.get(name)
    if entry is None:
        raise NotFound(f"no such file in {where}")
    path, content_type = entry
    if not path.is_file():
        raise Unavailable(f"{name} is not built: run `make sdk`")
    # Revalidated on every load (ETag); the PWA's service worker keeps the offline copy.
    return web.FileResponse(path, headers={
        "Content-Type": content_type, "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    })
