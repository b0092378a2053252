"""Models: downloaded on `model:update`, checked against sha256, kept in Cache Storage."""

from __future__ import annotations

import random

import aiohttp

from tests.browser import PwaPage, new_login
from tests.factories import create_user
from tests.onnx_builders import sha256, tiny_model


async def publish(server, admin, version: str, scale: float) -> bytes:
    data = tiny_model(scale)
    headers = {**admin.headers, "Content-Type": "application/octet-stream"}
    async with aiohttp.ClientSession() as http, \
            http.post(f"{server.url}/api/v1/ai/model/publish", data=data, headers=headers,
                      params={"family": "pro", "version": version}) as resp:
        assert resp.status == 201, await resp.text()
    return data


def new_version() -> str:
    # Versions are global and the PostgreSQL database is shared by the whole run.
    return f"pro_v{random.randrange(10**9)}"


def downloads(page: PwaPage) -> list[str]:
    seen: list[str] = []
    page.page.on("request", lambda r: "/ai/download/" in r.url and seen.append(r.url))
    return seen


async def cached_model(page: PwaPage) -> tuple[str | None, str | None]:
    """(version, sha256 of the bytes) as Cache Storage holds them."""
    return tuple(await page.page.evaluate("""async () => {
        const [version, file] = [(await window.feltsync.models.versions()).pro,
                                 await window.feltsync.models.file("pro")];
        if (!file) return [version ?? null, null];
        const digest = await crypto.subtle.digest("SHA-256", file);
        return [version, [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, "0")).join("")];
    }"""))


async def test_a_published_model_is_downloaded_once_and_survives_a_reload(pwa_server, browser):
    admin = await create_user(pwa_server, is_admin=True)
    first, second = new_version(), new_version()
    v1 = await publish(pwa_server, admin, first, 1.0)
    context = await browser.new_context()
    page = await PwaPage.open(context, pwa_server.url)
    fetched = downloads(page)
    await page.sign_up(new_login())

    await page.wait_for("document.getElementById('model').dataset.version === arg", first)
    assert await cached_model(page) == (first, sha256(v1))
    assert len(fetched) == 1

    await page.page.reload()
    await page.page.wait_for_selector("body[data-ready=true]")
    await page.wait_connected()
    assert "cached" in await page.page.text_content("#model-text")
    assert len(fetched) == 1  # the reload downloaded nothing

    v2 = await publish(pwa_server, admin, second, 2.0)  # live, while the page is open
    await page.wait_for("document.getElementById('model').dataset.version === arg", second)
    assert await cached_model(page) == (second, sha256(v2))
    assert len(fetched) == 2


async def test_a_download_that_does_not_match_its_sha256_is_not_kept(pwa_server, browser):
    admin = await create_user(pwa_server, is_admin=True)
    await publish(pwa_server, admin, new_version(), 1.0)
    context = await browser.new_context()
    await context.route("**/ai/download/**", lambda route: route.fulfill(
        status=200, body=b"not the model", content_type="application/octet-stream"))
    page = await PwaPage.open(context, pwa_server.url)
    await page.sign_up(new_login())

    await page.wait_for("document.getElementById('model-error').textContent.startsWith('checksum_mismatch')")
    assert await cached_model(page) == (None, None)
    assert await page.page.get_attribute("#model", "data-version") == ""
