"""The admin console: the page in headless Chromium, and `console:subscribe` over a real socket."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp import web

from models.accounts import User
from server import keys
from server.app import create_app
from server.services.console import ConsoleState
from tests.accounts_kit import PASSWORD, signup
from tests.browser import WAIT_MS, artifact_path, clock, create_tournament
from tests.factories import create_user
from tests.onnx_builders import tiny_model
from tests.socket_capture import CapturingSocket

CONSOLE_LIVE = "document.body.dataset.console === 'live'"


class Socket(CapturingSocket):
    async def next_state(self, after: int = 0, timeout: float = 5.0) -> dict[str, Any]:
        """The first `console:state` past the `after` already seen."""
        return (await self.wait_for("console:state", after + 1, timeout))[after]


async def publish_model(app: Any, admin: Any, family: str, version: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{app.url}/api/v1/ai/model/publish", data=tiny_model(1.5),
                             params={"family": family, "version": version, "type": "pro"},
                             headers={**admin.headers,
                                      "Content-Type": "application/octet-stream"}) as resp:
            assert resp.status == 201, await resp.text()


async def signed_up_admin(app: Any) -> str:
    """A login with a real password (the page signs in with it) and administrator rights."""
    login, data = await signup(app)
    await User.filter(id=data["user_id"]).update(is_admin=True)
    return login


# --- over the socket ----------------------------------------------------------------------------

async def test_only_administrators_may_subscribe_and_only_they_receive_the_state(
        start_app, make_settings):
    app = await start_app(make_settings(console_interval=0.2))
    admin = await create_user(app, is_admin=True, nickname="root")
    player = await create_user(app, nickname="Bea")
    watcher = await Socket.connect(app, admin.token)
    intruder = await Socket.connect(app, player.token)
    try:
        refused = await intruder.call("console:subscribe")
        assert refused == {"status": "error", "error": {
            "code": "forbidden", "message": "only an administrator may watch the console"}}
        extra = await watcher.call("console:subscribe", {"everything": True})
        assert extra["error"]["code"] == "bad_input"

        ok = await watcher.call("console:subscribe")
        assert ok == {"status": "ok", "data": {"room": "console", "interval_s": 0.2}}
        state = ConsoleState.model_validate(await watcher.next_state())
        assert state.connections.sockets == 2 and state.connections.users == 2
        nicknames = {u.user_id: u.nickname for u in state.connections.by_user}
        assert nicknames == {admin.id: "root", player.id: "Bea"}
        assert {r.room for r in state.rooms} >= {f"user_{admin.id}", f"user_{player.id}"}
        assert "console" not in {r.room for r in state.rooms}

        await asyncio.sleep(0.5)
        assert intruder.events("console:state") == []
        # The console room is no `<kind>_<id>` room: `room:join` cannot reach it either.
        sneaky = await intruder.call("room:join", {"room": "console"})
        assert sneaky["error"]["code"] == "bad_input"
        await asyncio.sleep(0.3)
        assert intruder.events("console:state") == []
    finally:
        await watcher.close()
        await intruder.close()


async def test_unauthenticated_and_expired_sockets_are_refused(start_app, make_settings):
    app = await start_app(make_settings())
    admin = await create_user(app, is_admin=True)

    anonymous = socketio.AsyncClient(reconnection=False)
    refusals: list[Any] = []
    anonymous.on("connect_error", lambda data: refusals.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await anonymous.connect(app.url, transports=["websocket"], wait_timeout=5)
    assert refusals[0]["data"]["code"] == "unauthorized"

    expired = await Socket.connect(app, admin.token)
    try:
        registry = app.app[keys.REALTIME].registry
        (sid,) = registry.sids_of_user(admin.id)
        registry.get(sid).expires_at = 0
        answer = await expired.call("console:subscribe")
        assert answer["error"]["code"] == "auth_expired"
        await asyncio.sleep(0.3)
        assert expired.events("console:state") == []
    finally:
        await expired.close()


async def test_the_feed_runs_only_while_someone_watches_and_stops_with_the_app(make_settings):
    app = create_app(make_settings(console_interval=0.1))
    runner = web.AppRunner(app, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    tokens = app[keys.SERVICES].tokens
    running = SimpleNamespace(url=f"http://127.0.0.1:{runner.addresses[0][1]}",
                              access_token=lambda user_id, device_id:
                              tokens.issue_access(user_id, device_id)[0])
    try:
        admin = await create_user(running, is_admin=True)
        watcher = await Socket.connect(running, admin.token)
        assert (await watcher.call("console:subscribe"))["status"] == "ok"
        await watcher.next_state(after=2)
        assert (await watcher.call("console:unsubscribe"))["data"] == {"room": "console",
                                                                        "left": True}
        await asyncio.sleep(0.2)  # a push already on its way may still land
        seen = len(watcher.events("console:state"))
        await asyncio.sleep(0.5)
        assert len(watcher.events("console:state")) == seen  # nobody watches: no pushes

        assert (await watcher.call("console:subscribe"))["status"] == "ok"
        await watcher.next_state(after=seen)  # it wakes up again
        await watcher.close()
    finally:
        await runner.cleanup()
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "console-feed"]


async def test_the_state_counts_published_events_and_lists_the_newest_log_entries(
        start_app, make_settings, pg_url):
    app = await start_app(make_settings(database_url=pg_url, console_interval=0.2))
    admin = await create_user(app, is_admin=True)
    host = await create_user(app)
    player = await create_user(app, nickname="Cy")
    tid, _ = await create_tournament(app, host, player.id)
    watcher = await Socket.connect(app, admin.token)
    follower = await Socket.connect(app, player.token)
    try:
        assert (await follower.call("tournament:join", {"tournament_id": tid}))["status"] == "ok"
        assert (await watcher.call("console:subscribe"))["status"] == "ok"
        first = ConsoleState.model_validate(await watcher.next_state())
        room = f"tournament_{tid}"
        [live_room] = [r for r in first.rooms if r.room == room]
        assert (live_room.sockets, live_room.user_ids) == (1, [player.id])
        [listed] = [t for t in first.tournaments.active if t.tournament_id == tid]
        assert (listed.status, listed.players, listed.players_left) == ("scheduled", 2, 2)

        await clock(app, host, tid, "start")
        seen = len(watcher.events("console:state"))

        def started(state: dict[str, Any]) -> bool:
            logs = {log["room"]: log["events"] for log in state["recent_events"]}
            return any(e["event"] == "clock:start" for e in logs.get(room, []))

        state = await watcher.next_state(after=seen)
        while not started(state):
            seen += 1
            state = await watcher.next_state(after=seen)
        parsed = ConsoleState.model_validate(state)
        assert parsed.rates.published_total >= first.rates.published_total + 1
        assert parsed.rates.delivered_total >= first.rates.delivered_total + 1
        [listed] = [t for t in parsed.tournaments.active if t.tournament_id == tid]
        assert listed.status == "running"
    finally:
        await watcher.close()
        await follower.close()


# --- the page -------------------------------------------------------------------------------------

async def open_console(browser: Any, app: Any, login: str) -> Any:
    context = await browser.new_context(viewport={"width": 1280, "height": 1100})
    page = await context.new_page()
    await page.goto(f"{app.url}/console/")
    await page.wait_for_selector("body[data-ready=true]", timeout=WAIT_MS)
    await page.fill("#login-form [name=login]", login)
    await page.fill("#login-form [name=password]", PASSWORD)
    await page.click("#login-button")
    await page.wait_for_selector("#console-view:not([hidden])", timeout=WAIT_MS)
    return page


async def wait_for(page: Any, expression: str, arg: Any = None) -> None:
    # As a function: the page's CSP forbids eval of a bare expression.
    await page.wait_for_function(f"(arg) => ({expression})", arg=arg, timeout=WAIT_MS)


async def test_an_administrator_watches_connections_rooms_events_and_models_live(
        pwa_server, browser):
    """Keeps a screenshot of the console as a test artifact (test-artifacts/console.png)."""
    app = pwa_server
    publisher = await create_user(app, is_admin=True)
    family = "pro" + uuid.uuid4().hex[:8]
    await publish_model(app, publisher, family, f"{family}_v2")
    host = await create_user(app, nickname="Host")
    player = await create_user(app, nickname="Dana")
    tid, _ = await create_tournament(app, host, player.id)
    follower = await Socket.connect(app, player.token)
    assert (await follower.call("tournament:join", {"tournament_id": tid}))["status"] == "ok"
    room = f"tournament_{tid}"
    try:
        page = await open_console(browser, app, await signed_up_admin(app))
        await wait_for(page, CONSOLE_LIVE)

        # The player's connection and the tournament room with its one member.
        await wait_for(page, "document.querySelector(`#connection-rows tr[data-user-id='${arg}']`)",
                       player.id)
        user_row = await page.eval_on_selector(
            f"#connection-rows tr[data-user-id='{player.id}']", "el => el.innerText")
        assert "Dana" in user_row and "dev-1" in user_row
        room_row = await page.wait_for_selector(f"#room-rows tr[data-room='{room}']",
                                                timeout=WAIT_MS)
        assert await room_row.get_attribute("data-sockets") == "1"
        assert await room_row.get_attribute("data-users") == "1"
        version = await page.wait_for_selector(f"#model-rows tr[data-family='{family}']",
                                               timeout=WAIT_MS)
        assert await version.get_attribute("data-version") == f"{family}_v2"
        assert await page.is_visible(f"#tournament-rows tr[data-tournament-id='{tid}']")

        # Events published after the page went live appear without a reload.
        await clock(app, host, tid, "start")
        chat = await follower.call("chat:send", {"channel": room, "client_msg_id": "gl-1",
                                                 "body": "good luck all"})
        assert chat["status"] == "ok"
        seq = chat["data"]["message"]["seq"]
        entry = await page.wait_for_selector(
            f"#recent-events li[data-room='{room}'][data-seq='{seq}'][data-event='chat:message']",
            timeout=WAIT_MS)
        assert "good luck all" in await entry.inner_text()
        await page.wait_for_selector(f"#recent-events li[data-room='{room}']"
                                     "[data-event='clock:start']", timeout=WAIT_MS)
        await wait_for(page, "document.querySelector("
                             "`#tournament-rows tr[data-tournament-id='${arg}']`)"
                             "?.dataset.status === 'running'", tid)
        assert await page.text_content("#status") in ("live (websocket)", "live (polling)")
        assert await page.is_hidden("#console-error")

        shot = artifact_path("console.png")
        await page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    finally:
        await follower.close()


async def test_the_page_shows_the_refusal_to_someone_who_is_not_an_administrator(
        pwa_server, browser):
    login, _ = await signup(pwa_server)
    page = await open_console(browser, pwa_server, login)
    await wait_for(page, "document.body.dataset.console === 'refused'")
    error = await page.wait_for_selector("#console-error:not([hidden])", timeout=WAIT_MS)
    assert await error.get_attribute("data-code") == "forbidden"
    assert "only an administrator may watch the console" in await error.inner_text()
    assert await page.eval_on_selector_all("#connection-rows tr", "rows => rows.length") == 0


async def test_the_console_serves_only_its_own_files(sqlite_server):
    async with aiohttp.ClientSession() as http:
        async with http.get(sqlite_server.url + "/console/", allow_redirects=False) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/html")
            assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        async with http.get(sqlite_server.url + "/console", allow_redirects=False) as resp:
            assert resp.status == 308 and resp.headers["Location"] == "/console/"
        for name in ("console.js", "console.css", "feltsync.js"):
            async with http.get(f"{sqlite_server.url}/console/{name}") as resp:
                assert resp.status == 200, name
        for name in ("..%2Fconsole.py", "secrets.txt", "%2e%2e"):
            async with http.get(f"{sqlite_server.url}/console/{name}") as resp:
                assert resp.status == 404, name
                assert (await resp.json())["error"]["code"] == "not_found"
