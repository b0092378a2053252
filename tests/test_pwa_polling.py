"""With websockets blocked, the page runs on long-polling end to end."""

from __future__ import annotations

import re

from models.history import HandHistory
from models.realtime import ChatMessage
from tests.apiclient import api
from tests.browser import PASSWORD, PwaPage, create_tournament, eventually, new_login
from tests.factories import create_user


async def test_a_page_whose_websocket_is_refused_works_over_polling(pwa_server, browser):
    context = await browser.new_context()
    refused: list[str] = []

    async def refuse(ws) -> None:
        refused.append(ws.url)
        await ws.close(code=1011, reason="blocked by the test")

    await context.route_web_socket(re.compile(r".*/socket\.io/.*"), refuse)
    page = await PwaPage.open(context, pwa_server.url)
    login = new_login()
    await page.sign_up(login)
    user_id = await page.user_id()
    await eventually(lambda: refused)  # the client did try to upgrade
    await page.wait_connected()
    assert await page.transport() == "polling"

    # Pushed to the page: a settings change made on another device arrives live.
    status, tokens = await api(pwa_server, "POST", "/auth/login", json={
        "login": login, "password": PASSWORD, "device_id": "other-phone", "platform": "ios"})
    assert status == 200, tokens
    other = {"Authorization": f"Bearer {tokens['data']['access_token']}"}
    version = int((await page.settings())["version"])
    status, reply = await api(pwa_server, "PATCH", f"/user/{user_id}", headers=other,
                              json={"settings": {"version": version, "theme": "high_contrast"}})
    assert status == 200, reply
    await page.wait_for("document.getElementById('settings').dataset.theme === 'high_contrast'")

    # From the page: a socket event with its ack (chat) and a queued write (a hand).
    host = await create_user(pwa_server)
    tid, _ = await create_tournament(pwa_server, host, user_id)
    await page.join_tournament(tid)
    await page.page.fill("#chat-input", "hello over polling")
    await page.page.click("#chat-send")
    await page.wait_for("document.querySelector('#chat-log li')?.textContent.endsWith('hello over polling')")
    assert await ChatMessage.filter(channel=f"tournament_{tid}", user_id=user_id,
                                    body="hello over polling").count() == 1
    await page.page.click("#record-hand")
    await page.wait_for("document.getElementById('hands-saved').textContent === '1'")
    assert await HandHistory.filter(user_id=user_id).count() == 1

    assert await page.transport() == "polling"  # never upgraded behind the tester's back
    assert all("transport=websocket" in url for url in refused)
