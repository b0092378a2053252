"""Room events reach the app once each and in seq order, even when the wire loses or repeats one."""

from __future__ import annotations

import re

from tests.browser import PwaPage, clock, create_tournament, eventually, new_login
from tests.factories import create_user


async def test_a_lost_event_is_fetched_with_room_replay_and_a_repeated_one_is_dropped(
        pwa_server, browser):
    context = await browser.new_context()
    lost: list[str] = []
    repeated: list[str] = []
    replays: list[str] = []

    async def lossy_wire(page_side) -> None:
        server_side = page_side.connect_to_server()

        def from_server(message) -> None:
            if isinstance(message, str) and '"clock:resume"' in message and not lost:
                lost.append(message)  # never reaches the page
                return
            if isinstance(message, str) and '"clock:pause"' in message and lost and not repeated:
                repeated.append(message)
                page_side.send(message)  # reaches the page twice
            page_side.send(message)

        def from_page(message) -> None:
            if isinstance(message, str) and '"room:replay"' in message:
                replays.append(message)
            server_side.send(message)

        server_side.on_message(from_server)
        page_side.on_message(from_page)

    await context.route_web_socket(re.compile(r".*/socket\.io/.*"), lossy_wire)
    page = await PwaPage.open(context, pwa_server.url)
    await page.sign_up(new_login())
    await page.wait_for("document.getElementById('status').dataset.transport === 'websocket'")
    host = await create_user(pwa_server)
    tid, _ = await create_tournament(pwa_server, host, await page.user_id())
    room = f"tournament_{tid}"
    await clock(pwa_server, host, tid, "start")
    await page.join_tournament(tid)

    for action in ["pause", "resume", "pause"]:
        await clock(pwa_server, host, tid, action)
    await eventually(lambda: repeated)
    await page.wait_for("document.querySelectorAll(`#event-log li[data-room='${arg}']"
                        "[data-event^='clock:']`).length === 3", room)

    shown = [(seq, event) for _, seq, event in await page.event_log(room)]
    clock_events = [(seq, event) for seq, event in shown if event.startswith("clock:")]
    assert [event for _, event in clock_events] == ["clock:pause", "clock:resume", "clock:pause"]
    assert [seq for seq, _ in shown] == list(range(shown[0][0], shown[-1][0] + 1))
    assert len(lost) == 1 and len(repeated) == 1
    assert len(replays) == 1  # the gap was repaired by asking the server
