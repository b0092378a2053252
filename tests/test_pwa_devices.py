"""Two browser contexts are two devices of one user: what one changes, the other shows live."""

from __future__ import annotations

from models.accounts import UserSettings
from tests.browser import PwaPage, new_login


async def test_a_settings_change_on_one_device_appears_on_the_other_without_a_reload(
        pwa_server, browser):
    login = new_login()
    phone = await PwaPage.open(await browser.new_context(), pwa_server.url)
    await phone.sign_up(login)
    laptop = await PwaPage.open(await browser.new_context(), pwa_server.url)
    await laptop.log_in(login)
    assert await phone.user_id() == await laptop.user_id()
    assert await phone.device_id() != await laptop.device_id()
    before = await laptop.settings()
    assert before["theme"] == "classic"
    # A value kept on the window survives only if the page is never reloaded.
    await laptop.page.evaluate("window.loadedOnce = true")

    await phone.page.select_option("#theme-select", "dark")

    await laptop.wait_for("document.getElementById('settings').dataset.theme === 'dark'")
    after = await laptop.settings()
    assert int(after["version"]) == int(before["version"]) + 1
    assert await laptop.page.evaluate("window.loadedOnce") is True
    assert await laptop.page.is_checked("#se-on")  # untouched settings stay as they were
    assert [e for _, _, e in await laptop.event_log(f"user_{await laptop.user_id()}")] \
        == ["settings:update"]
    stored = await UserSettings.get(user_id=await phone.user_id())
    assert (stored.theme, stored.version) == ("dark", int(after["version"]))

    # And back the other way, with a toggle.
    await laptop.page.click("#bgm-on")
    await phone.wait_for("!document.getElementById('bgm-on').checked")
    assert await phone.page.input_value("#theme-select") == "dark"
    stored = await UserSettings.get(user_id=await phone.user_id())
    assert stored.bgm_on is False and stored.version == int(after["version"]) + 1
