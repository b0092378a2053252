"""The PWA at /app/: what the server serves, and the page as a person sees it."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tests.browser import PwaPage, artifact_path, clock, create_tournament, new_login
from tests.factories import create_user


async def fetch(server, path: str, **kw):
    async with aiohttp.ClientSession() as http, \
            http.get(server.url + path, allow_redirects=False, **kw) as resp:
        return resp.status, resp.headers, await resp.read()


async def test_the_app_is_served_with_its_manifest_and_service_worker(sqlite_server):
    status, headers, body = await fetch(sqlite_server, "/app/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'rel="manifest"' in body and b'src="app.js"' in body
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"

    status, headers, body = await fetch(sqlite_server, "/app/manifest.webmanifest")
    manifest = json.loads(body)
    assert headers["Content-Type"] == "application/manifest+json"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == \
        ("/app/", "/app/", "standalone")
    for name in ("sw.js", "app.js", "feltsync.js"):
        status, headers, body = await fetch(sqlite_server, f"/app/{name}")
        assert status == 200 and headers["Content-Type"].startswith("text/javascript"), name
        assert body

    status, headers, _ = await fetch(sqlite_server, "/app")
    assert status == 308 and headers["Location"] == "/app/"


@pytest.mark.parametrize("path", ["/app/nope.js", "/app/..%2Fpyproject.toml", "/app/%2e%2e",
                                  "/app/index.html/extra"])
async def test_only_the_apps_own_files_are_served(sqlite_server, path):
    status, _, body = await fetch(sqlite_server, path)
    assert status == 404
    assert json.loads(body)["error"]["code"] == "not_found"


async def test_the_page_signed_in_at_a_running_tournament(pwa_server, browser):
    """Also keeps a screenshot of the page as a test artifact (test-artifacts/pwa.png)."""
    page = await PwaPage.open(await browser.new_context(viewport={"width": 900, "height": 1300}),
                              pwa_server.url)
    await page.sign_up(new_login(), nickname="Ada")
    host = await create_user(pwa_server)
    tid, _ = await create_tournament(pwa_server, host, await page.user_id())
    await clock(pwa_server, host, tid, "start")
    await page.join_tournament(tid)
    await page.page.fill("#chat-input", "good luck all")
    await page.page.click("#chat-send")
    await page.wait_for("document.querySelectorAll('#chat-log li').length === 1")
    await page.page.click("#record-hand")
    await page.wait_for("document.getElementById('hands-saved').textContent === '1'")

    assert await page.page.text_content("#nickname") == "Ada"
    assert await page.page.text_content("#clock-level") == "1"
    assert await page.page.text_content("#clock-blinds") == "10/20 nlh"
    assert (await page.page.text_content("#clock-remaining")).endswith("left")
    assert await page.page.text_content("#status") in ("live (websocket)", "live (polling)")

    shot = artifact_path("pwa.png")
    await page.page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
