"""Protection: oversize events, floods and slow consumers never hurt the server or others."""

import asyncio
import uuid

import pytest

from models.realtime import ChatMessage, RoomEvent
from server import keys
from tests.factories import create_user
from tests.jsclient import run_node
from tests.room_followers import Followers


async def _open_tables(user_id: int, room_id: str) -> bool:
    return True


async def test_an_oversize_event_and_a_flood_are_refused_and_the_socket_stays_usable(
        start_app, make_settings, node_ready):
    app = await start_app(make_settings(socket_event_rate=5, socket_event_burst=10))
    app.services.rooms.register_kind("table", _open_tables)
    user = await create_user(app)
    channel = f"table_{uuid.uuid4().hex[:8]}"
    result = await run_node("abuse.mjs", app.url, user.token, channel, "30")
    assert result["oversize"]["error"]["code"] == "payload_too_large"
    assert await ChatMessage.filter(channel=channel).count() == 0
    codes = result["flood_codes"]
    # A burst of 10 passes (plus what refills at 5/s while the flood is in flight), the rest is limited.
    assert 10 <= codes.count("ok") <= 13, codes
    assert codes.count("rate_limited") == 30 - codes.count("ok")
    assert result["after_flood"]["status"] == "ok"  # the bucket refills: limited, not banned
    assert result["connected"] is True
    assert result["huge_disconnect"] == "transport close"
    assert await ChatMessage.filter(channel=channel).count() == 0


@pytest.mark.parametrize("fast_path", [False, True], ids=["stock_manager", "fast_path"])
async def test_a_socket_that_stops_reading_is_dropped_with_a_reason_and_resumes_from_the_log(
        start_app, make_settings, node_ready, fast_path):
    app = await start_app(make_settings(socket_max_outgoing=50, broadcast_fast_path=fast_path))
    app.services.rooms.register_kind("table", _open_tables)
    reader = await create_user(app)
    stalled = await create_user(app)
    room = f"table_{uuid.uuid4().hex[:8]}"
    healthy = await Followers.start(urls=[app.url], tokens=[reader.token], rooms=[room],
                                    until="test:end", until_rooms=[room])
    slow = await Followers.start(urls=[app.url], tokens=[stalled.token], rooms=[room],
                                 pause_ms=4000, until="test:end", until_rooms=[room],
                                 timeout_ms=60000)
    registry = app.app[keys.REALTIME].registry
    stalled_sids = registry.sids_of_user(stalled.id)
    assert stalled_sids
    blob = "y" * 40_000
    for i in range(300):
        await app.services.bus.publish(room, "table:update", {"i": i, "blob": blob})
        if not set(stalled_sids) & set(registry.sids_of_user(stalled.id)):
            break
        await asyncio.sleep(0)
    assert not set(stalled_sids) & set(registry.sids_of_user(stalled.id)), "never dropped"
    dropped_at = await RoomEvent.filter(room=room).count()
    await app.services.bus.publish(room, "test:end", {})
    healthy_client = (await healthy.result())["clients"][0]
    slow_client = (await slow.result(timeout=90))["clients"][0]
    end_seq = (await RoomEvent.get(room=room, event="test:end")).seq
    assert dropped_at < 300  # cut off well before the end, not buffered
    assert healthy_client["rooms"][room]["seqs"] == list(range(1, end_seq + 1))
    assert healthy_client["switches"] == 0
    # The stalled one was cut off, came back with its last seq, and got everything after its join.
    assert slow_client["disconnect_reasons"][0] in ("io server disconnect", "transport close")
    if not fast_path:
        # The stock path empties the queue first, so the reason is the first thing it reads.
        assert slow_client["closing"] == ["slow_consumer"], slow_client
    assert slow_client["switches"] >= 1
    seqs = slow_client["rooms"][room]["seqs"]
    # Its own presence:leave and, after rejoining, presence:join may follow test:end.
    assert seqs == list(range(2, seqs[-1] + 1)) and seqs[-1] >= end_seq
    assert slow_client["duplicates"] == 0
