"""Offline: writes wait in IndexedDB (and survive the page closing), then reach the server once."""

from __future__ import annotations

from models.accounts import UserSettings
from models.ai import RlBuffer
from models.history import HandHistory
from tests.apiclient import api
from tests.browser import PASSWORD, PwaPage, go_offline, go_online, new_login


async def hands_on_server(user_id: int) -> int:
    return await HandHistory.filter(user_id=user_id).count()


async def test_twenty_hands_recorded_offline_reach_the_server_exactly_once(network_plug, browser):
    context = await browser.new_context()
    page = await PwaPage.open(context, network_plug.url)
    await page.sign_up(new_login())
    user_id = await page.user_id()
    assert not await page.banner_visible()

    await go_offline(context, network_plug)
    await page.wait_for("document.getElementById('status').textContent === 'offline'")
    for _ in range(20):
        await page.page.click("#record-hand")
    await page.wait_for("document.getElementById('hands-recorded').textContent === '20'")

    assert await page.queue_length() == 20
    assert await page.banner_visible()
    assert await hands_on_server(user_id) == 0

    await go_online(context, network_plug)
    await page.wait_for("document.getElementById('queue-length').textContent === '0'")
    await page.wait_connected()

    assert await hands_on_server(user_id) == 20
    assert await page.page.text_content("#hands-saved") == "20"
    assert not await page.banner_visible()
    # A flush repeated now (as after a lost answer) finds nothing left to send.
    await page.page.evaluate("window.feltsync.flush()")
    assert await hands_on_server(user_id) == 20


async def test_the_queue_outlives_the_page_closed_and_reopened_while_offline(network_plug, browser):
    context = await browser.new_context()
    page = await PwaPage.open(context, network_plug.url)
    await page.sign_up(new_login())
    await page.wait_service_worker()
    user_id = await page.user_id()

    await go_offline(context, network_plug)
    await page.wait_for("document.getElementById('status').textContent === 'offline'")
    for _ in range(5):
        await page.page.click("#record-hand")
    await page.wait_for("document.getElementById('queue-length').textContent === '5'")
    await page.page.close()

    # Still offline: the service worker serves the page, IndexedDB still holds the queue.
    page = await PwaPage.open(context, network_plug.url)
    assert await page.user_id() == user_id
    await page.wait_for("document.getElementById('queue-length').textContent === '5'")
    assert await page.banner_visible()
    assert (await page.settings())["theme"] == "classic"  # the last profile seen, kept too
    assert await hands_on_server(user_id) == 0

    await go_online(context, network_plug)
    await page.wait_for("document.getElementById('queue-length').textContent === '0'")
    assert await hands_on_server(user_id) == 5
    assert not await page.banner_visible()


async def test_settings_and_learning_lines_written_offline_are_applied_on_return(
        pwa_server, network_plug, browser):
    context = await browser.new_context()
    page = await PwaPage.open(context, network_plug.url)
    login = new_login()
    await page.sign_up(login)
    user_id = await page.user_id()
    version = int((await page.settings())["version"])

    await go_offline(context, network_plug)
    await page.wait_for("document.getElementById('status').textContent === 'offline'")
    await page.page.select_option("#theme-select", "dark")
    await page.page.evaluate("""window.feltsync.recordRlLines([
        {game: "badugi", model_version: "badugi_v5", state: [1, 2], action: 0, reward: 1.5},
        {game: "badugi", model_version: "badugi_v5", state: [2, 3], action: 1, reward: -1}])""")
    await page.wait_for("document.getElementById('queue-length').textContent === '2'")
    assert (await page.settings())["theme"] == "dark"  # shown at once, on this device
    # Meanwhile another device turns the music off (the settings version moves on).
    _, tokens = await api(pwa_server, "POST", "/auth/login", json={
        "login": login, "password": PASSWORD, "device_id": "tablet", "platform": "android"})
    status, _ = await api(pwa_server, "PATCH", f"/user/{user_id}",
                          headers={"Authorization": f"Bearer {tokens['data']['access_token']}"},
                          json={"settings": {"version": version, "bgm_on": False}})
    assert status == 200

    await go_online(context, network_plug)
    await page.wait_for("document.getElementById('queue-length').textContent === '0'")

    stored = await UserSettings.get(user_id=user_id)
    assert (stored.theme, stored.bgm_on, stored.version) == ("dark", False, version + 2)
    assert await RlBuffer.filter(user_id=user_id, game="badugi").count() == 2
    await page.wait_for("document.getElementById('settings').dataset.version === String(arg)",
                        version + 2)
    assert not await page.page.is_checked("#bgm-on")
