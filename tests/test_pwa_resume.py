"""Resume: tournament events published while the page is offline arrive once each, in order."""

from __future__ import annotations

import pytest

from server import keys
from server.services.rooms import read_log
from tests.browser import PwaPage, clock, create_tournament, eventually, new_login
from tests.factories import create_user


@pytest.fixture
async def pwa_server(start_app, make_settings, pg_url):
    """Leaves announced at once: the page's own presence:join after a leave shows it is back."""
    return await start_app(make_settings(database_url=pg_url, presence_leave_grace=0))


async def test_events_published_while_offline_are_shown_once_each_and_in_order(pwa_server,
                                                                              browser):
    context = await browser.new_context()
    page = await PwaPage.open(context, pwa_server.url)
    await page.sign_up(new_login())
    user_id = await page.user_id()
    host = await create_user(pwa_server)
    tid, book = await create_tournament(pwa_server, host, user_id)
    room = f"tournament_{tid}"
    await clock(pwa_server, host, tid, "start")

    await page.join_tournament(tid)
    await clock(pwa_server, host, tid, "pause")
    await page.wait_for("document.querySelector('#event-log li[data-event=\"clock:pause\"]')")
    assert await page.page.get_attribute("#clock", "data-paused") == "true"
    seen_online = await page.event_log(room)

    await context.set_offline(True)
    registry = pwa_server.app[keys.REALTIME].registry
    await eventually(lambda: not registry.sids_of_user(user_id))  # the page is really gone
    for action in ["resume", "pause", "resume", "pause", "resume"]:
        await clock(pwa_server, host, tid, action)
    book.stacks = {"me": 1400, "bot": 600}
    status, reply = await book.submit(pwa_server, host)
    assert status == 200, reply
    missed = [(r.room, r.seq, r.event) for r in await read_log(room, seen_online[-1][1])]
    assert [event for _, _, event in missed if not event.startswith("presence:")] == [
        "clock:resume", "clock:pause", "clock:resume", "clock:pause", "clock:resume",
        "tournament:update", "final_table"]
    assert await page.event_log(room) == seen_online  # nothing reached the page meanwhile

    await context.set_offline(False)
    # The page is back once its own presence:join follows what it missed.
    await page.wait_for(f"[...document.querySelectorAll('#event-log li[data-room=\"{room}\"]')]"
                        f".some(li => li.dataset.event === 'presence:join' && "
                        f"+li.dataset.seq > {missed[-1][1]})")

    # Everything the room logged since, once each and in order (the page's own
    # presence:leave/join included); nothing before what it had already seen.
    logged = [(r.room, r.seq, r.event) for r in await read_log(room, seen_online[-1][1])]
    assert logged[:len(missed)] == missed
    assert await page.event_log(room) == seen_online + logged
    seqs = [seq for _, seq, _ in await page.event_log(room)]
    assert seqs == sorted(set(seqs)) and seqs == list(range(seqs[0], seqs[-1] + 1))
    assert await page.page.get_attribute("#clock", "data-paused") == "false"
    assert "2 players" in await page.page.text_content("#tournament-state")
