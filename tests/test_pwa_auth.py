"""Tokens: renewed before they expire (the live socket follows), and an expired one repaired."""

from __future__ import annotations

import asyncio
import time

import jwt

from server import keys
from tests.browser import PwaPage, create_tournament, eventually, new_login
from tests.factories import create_user

# Overwrites the stored session the way a device finds it after a long sleep: an access token
# that expired, which the client still believes valid (its clock said so when it was stored).
STORE_EXPIRED_TOKEN = """async (token) => {
    window.feltsync.close();
    const db = await new Promise((ok, fail) => {
        const open = indexedDB.open("feltsync");
        open.onsuccess = () => ok(open.result);
        open.onerror = () => fail(open.error);
    });
    const tx = db.transaction("kv", "readwrite");
    const store = tx.objectStore("kv");
    const session = await new Promise((ok) => { const r = store.get("session"); r.onsuccess = () => ok(r.result); });
    store.put({...session, access_token: token, expires_at: Date.now() / 1000 + 3600}, "session");
    await new Promise((ok) => { tx.oncomplete = ok; });
    db.close();
}"""


def socket_sessions(server, user_id: int) -> list:
    registry = server.app[keys.REALTIME].registry
    return [registry.get(sid) for sid in registry.sids_of_user(user_id)]


async def test_a_connect_refused_for_an_expired_token_is_repaired_by_one_refresh(
        start_app, make_settings, pg_url, browser):
    server = await start_app(make_settings(database_url=pg_url))
    context = await browser.new_context()
    page = await PwaPage.open(context, server.url)
    await page.sign_up(new_login())
    user_id, device_id = await page.user_id(), await page.device_id()
    live = await page.page.evaluate("window.feltsync.session.tokens.access_token")
    generation = jwt.decode(live, options={"verify_signature": False})["gen"]
    expired, _ = server.services.tokens.issue_access(user_id, device_id, now=time.time() - 3600,
                                                     generation=generation)
    await page.page.evaluate(STORE_EXPIRED_TOKEN, expired)
    refreshes: list[str] = []
    page.page.on("request", lambda r: r.url.endswith("/api/v1/auth/refresh") and refreshes.append(r.url))

    await page.load()
    await page.wait_connected()

    assert len(refreshes) == 1
    stored = await page.page.evaluate("window.feltsync.session.tokens.access_token")
    assert stored not in (expired, live)
    [session] = await eventually(lambda: socket_sessions(server, user_id))
    assert session.expires_at > time.time() + 60


async def test_the_access_token_is_renewed_before_it_expires_and_the_socket_follows(
        start_app, make_settings, pg_url, browser):
    server = await start_app(make_settings(database_url=pg_url, access_token_ttl=30))
    page = await PwaPage.open(await browser.new_context(), server.url)
    await page.sign_up(new_login())
    user_id = await page.user_id()
    [first] = await eventually(lambda: socket_sessions(server, user_id))
    first_expiry = first.expires_at

    # Renewed over the open socket (`auth:refresh`): same socket, later expiry.
    await eventually(lambda: first.expires_at > first_expiry, timeout=45)
    assert [s.sid for s in socket_sessions(server, user_id)] == [first.sid]

    # Past the first token's expiry the socket is still allowed to act.
    await asyncio.sleep(max(0.0, first_expiry + 1 - time.time()))
    host = await create_user(server)
    tid, _ = await create_tournament(server, host, user_id)
    await page.join_tournament(tid)
    await page.page.fill("#chat-input", "still here")
    await page.page.click("#chat-send")
    await page.wait_for("document.querySelectorAll('#chat-log li').length === 1")
    assert [s.sid for s in socket_sessions(server, user_id)] == [first.sid]
