"""Real headless Chromium (Debian's build) driven by playwright, and the PWA page as a test sees it.

Test modules import the fixtures they use: `from tests.browser import browser, pwa_server`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests import services
from tests.apiclient import api
from tests.services import require
from tests.tournament_kit import SnapshotBook, structure

ARTIFACTS = services.ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
WAIT_MS = 20_000
PASSWORD = "correct horse battery"


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A fresh Chromium (playwright gives each launch its own new profile directory)."""
    require("chromium", services.probe_chromium())
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=services.CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def pwa_server(start_app: Callable[..., Any], make_settings: Callable[..., Any],
                     pg_url: str) -> Any:
    """One instance on PostgreSQL, serving the PWA at /app/."""
    return await start_app(make_settings(database_url=pg_url))


def new_login() -> str:
    return f"p_{uuid.uuid4().hex[:12]}"


class PwaPage:
    """The reference PWA in one tab, read the way a person reads it (the DOM)."""

    def __init__(self, page: Any, base_url: str):
        self.page = page
        self.base_url = base_url

    @classmethod
    async def open(cls, context: Any, base_url: str) -> PwaPage:
        page = await context.new_page()
        pwa = cls(page, base_url)
        await pwa.load()
        return pwa

    async def load(self) -> None:
        await self.page.goto(f"{self.base_url}/app/")
        await self.page.wait_for_selector("body[data-ready=true]", timeout=WAIT_MS)

    async def sign_up(self, login: str, nickname: str = "Felt") -> None:
        await self._submit(login, "#signup-button", nickname)

    async def log_in(self, login: str) -> None:
        await self._submit(login, "#login-button")

    async def _submit(self, login: str, button: str, nickname: str = "") -> None:
        await self.page.fill("#login-form [name=login]", login)
        await self.page.fill("#login-form [name=password]", PASSWORD)
        await self.page.fill("#login-form [name=nickname]", nickname)
        await self.page.click(button)
        await self.page.wait_for_selector("#app-view:not([hidden])", timeout=WAIT_MS)
        await self.wait_connected()
        await self.wait_for("document.getElementById('settings').dataset.version !== ''")

    async def wait_for(self, expression: str, arg: Any = None) -> None:
        # As a function: a bare expression would be eval'd in the page, which its CSP forbids.
        await self.page.wait_for_function(f"(arg) => ({expression})", arg=arg, timeout=WAIT_MS)

    async def wait_connected(self) -> None:
        await self.wait_for("document.getElementById('status').dataset.connected === 'true'")

    async def wait_service_worker(self) -> None:
        """Until the service worker controls the page (so it loads again offline)."""
        await self.page.evaluate("navigator.serviceWorker.ready")
        await self.wait_for("navigator.serviceWorker.controller !== null")

    async def user_id(self) -> int:
        return int(await self.page.text_content("#user-id") or 0)

    async def device_id(self) -> str:
        return await self.page.text_content("#device-id") or ""

    async def settings(self) -> dict[str, str]:
        return await self.page.eval_on_selector("#settings", "el => ({...el.dataset})")

    async def queue_length(self) -> int:
        return int(await self.page.text_content("#queue-length") or 0)

    async def banner_visible(self) -> bool:
        return await self.page.is_visible("#offline-banner")

    async def transport(self) -> str:
        return await self.page.eval_on_selector("#status", "el => el.dataset.transport")

    async def event_log(self, room: str | None = None) -> list[tuple[str, int, str]]:
        """(room, seq, event) of every row of the page's event log, top to bottom."""
        rows = await self.page.eval_on_selector_all(
            "#event-log li", "els => els.map(el => [el.dataset.room, +el.dataset.seq, el.dataset.event])")
        return [tuple(row) for row in rows if room is None or row[0] == room]

    async def join_tournament(self, tournament_id: str) -> None:
        await self.page.fill("#tournament-id", tournament_id)
        await self.page.click("#join-tournament")
        await self.page.wait_for_selector("#tournament:not([hidden])", timeout=WAIT_MS)


async def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll an async or plain check until it returns something truthy; fail after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.1)


def artifact_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


# --- a tournament for the page to watch ---------------------------------------------------

LEVELS = [(10, 20, 0, "nlh"), (20, 40, 0, "nlh"), (30, 60, 5, "nlh")]


async def create_tournament(server, host, player_user_id: int) -> tuple[str, SnapshotBook]:
    spec = structure(LEVELS)
    status, reply = await api(server, "POST", "/tournament/create", user=host, json={
        "name": "Thursday turbo", "structure": spec, "table_count": 1,
        "players": [{"player_id": "me", "user_id": player_user_id, "name": "me"},
                    {"player_id": "bot", "name": "bot"}]})
    assert status == 201, reply
    tid = reply["data"]["tournament_id"]
    return tid, SnapshotBook(tid, spec, {"me": (1, 1), "bot": (1, 2)}, table_count=1)


async def clock(server, host, tid: str, action: str) -> None:
    status, reply = await api(server, "POST", f"/tournament/{tid}/clock", user=host,
                              json={"action": action})
    assert status == 200, reply


class NetworkPlug:
    """A TCP relay between the browser and the server whose cable a test can pull.

    Chromium's offline emulation (`context.set_offline`) sets `navigator.onLine` and fires the
    events the page listens to, but requests routed through a service worker may still leave
    the browser. With the plug out nothing reaches the server, so "offline" is real.
    """

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.connected = True
        self.url = ""
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> NetworkPlug:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self.pull()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def pull(self) -> None:
        """Cut every open connection and refuse new ones until `plug_in`."""
        self.connected = False
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def plug_in(self) -> None:
        self.connected = True

    async def _relay(self, client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        if not self.connected:
            client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1",
                                                                         self.target_port)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.update((client_writer, server_writer))
        try:
            await asyncio.gather(self._pipe(client_reader, server_writer),
                                 self._pipe(server_reader, client_writer))
        finally:
            for writer in (client_writer, server_writer):
                self._writers.discard(writer)
                writer.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()


@pytest.fixture
async def network_plug(pwa_server: Any) -> AsyncIterator[NetworkPlug]:
    """The PWA server reached through a plug the test can pull (`plug.url` is its address)."""
    port = int(pwa_server.url.rsplit(":", 1)[1])
    plug = await NetworkPlug(port).start()
    yield plug
    await plug.stop()


async def go_offline(context: Any, plug: NetworkPlug) -> None:
    plug.pull()
    await context.set_offline(True)


async def go_online(context: Any, plug: NetworkPlug) -> None:
    plug.plug_in()
    await context.set_offline(False)
