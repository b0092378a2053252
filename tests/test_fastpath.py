"""The broadcast fast path: order per socket, polling clients, closing sockets, slow sockets.

Emits go through `sio.emit(event, data, room=...)`, the call local delivery ends in, so these
tests pin the client manager's contract whatever sits above it.
"""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
import pytest

from server import keys
from server.realtime.connection import user_room
from server.realtime.fastpath import SLOW_CONSUMER, FastPathManager, text_frame
from tests.factories import create_user
from tests.jsclient import run_node

BIG = "b" * 200_000  # larger than the direct-write buffer limit
BURST_PAD = "B" * 1_000_000


async def writers_idle(manager: FastPathManager, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while any(ws.sending or not ws.eio_socket.queue.empty() for ws in manager._direct.values()):
        assert loop.time() < deadline, "writers never became idle"
        await asyncio.sleep(0.02)


def realtime(app):
    return app.app[keys.REALTIME]


async def room_members(app, room: str, count: int, timeout: float = 15.0) -> list[str]:
    """The socket ids in `room` once there are `count` of them."""
    sio = realtime(app).sio
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        sids = [sid for sid, _ in sio.manager.get_participants("/", room)]
        if len(sids) >= count:
            return sids
        assert loop.time() < deadline, f"only {len(sids)} of {count} sockets joined {room}"
        await asyncio.sleep(0.02)


class RawSocket:
    """A bare Engine.IO v4 websocket client: reads frames only when asked to."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse, sid: str):
        self.http, self.ws, self.sid = http, ws, sid

    @classmethod
    async def connect(cls, url: str, token: str) -> RawSocket:
        http = aiohttp.ClientSession()
        ws = await http.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket")
        assert (await ws.receive_str()).startswith("0")
        await ws.send_str("40" + json.dumps({"token": token, "device_id": "dev-1"}))
        ack = await ws.receive_str()
        while not ack.startswith("40"):  # events emitted by the connect handler come first
            ack = await ws.receive_str()
        return cls(http, ws, json.loads(ack[2:])["sid"])

    async def next_event(self, name: str, timeout: float = 10.0):
        while True:
            msg = await asyncio.wait_for(self.ws.receive(), timeout)
            if msg.type != aiohttp.WSMsgType.TEXT:
                return None  # closed
            if msg.data == "2":
                await self.ws.send_str("3")
            elif msg.data.startswith("42"):
                event, data = json.loads(msg.data[2:])
                if event == name:
                    return data

    async def close(self) -> None:
        await self.ws.close()
        await self.http.close()


def test_text_frame_headers_follow_rfc6455_length_forms():
    assert text_frame(b"x" * 125)[:2] == bytes([0x81, 125])
    assert text_frame(b"x" * 126)[:4] == bytes([0x81, 126, 0, 126])
    assert text_frame(b"x" * 65536)[:10] == bytes([0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0])


def test_fast_path_is_the_default_and_stock_is_one_setting_away(make_settings):
    assert make_settings().broadcast_fast_path is True
    assert make_settings().websocket_compression is False
    assert make_settings(broadcast_fast_path=False).broadcast_fast_path is False


@pytest.mark.usefixtures("node_ready")
@pytest.mark.parametrize("transports", ["websocket,websocket,websocket", "polling,websocket"])
async def test_room_and_direct_emits_arrive_in_emit_order_on_every_socket(sqlite_server, transports):
    app = sqlite_server
    user = await create_user(app)
    manager = realtime(app).sio.manager
    assert isinstance(manager, FastPathManager)
    count = len(transports.split(","))
    node = asyncio.create_task(run_node("fastpath_order.mjs", app.url, user.token, transports,
                                        timeout=60))
    sids = await room_members(app, user_room(user.id), count)
    sio = realtime(app).sio
    expected: dict[str, list[int]] = {sid: [] for sid in sids}
    for k in range(300):
        # 16 MB to every socket without a pause: more than the kernel buffers, so the writers
        # are busy and later events must take the queued path.
        pad = BURST_PAD if k < 16 else BIG if k % 7 == 0 else "s"
        if k == 150:
            await writers_idle(manager)  # and from here on some are idle again: direct writes
        if k % 5 == 3:  # to one socket, interleaved with room events
            target = sids[k % len(sids)]
            await sio.emit("probe:event", {"k": k, "pad": pad}, to=target)
            expected[target].append(k)
        else:
            await sio.emit("probe:event", {"k": k, "pad": pad}, room=user_room(user.id))
            for sid in sids:
                expected[sid].append(k)
        if k % 10 == 0:
            await asyncio.sleep(0)  # let writers run, so some are busy and some idle
    await sio.emit("probe:end", {}, room=user_room(user.id))
    result = await node

    assert "error" not in result, result
    for sock in result["sockets"]:
        assert sock["ks"] == expected[sock["id"]], sock["transport"]
    assert manager.direct_writes > 0 and manager.queued > 0  # both paths were exercised
    assert manager.queued >= 16 - 1  # at least the burst's tail waited in the queues
    assert manager.dropped == 0


@pytest.mark.usefixtures("node_ready")
async def test_polling_client_receives_room_broadcast(sqlite_server):
    user = await create_user(sqlite_server)
    node = asyncio.create_task(run_node("fastpath_capture.mjs", sqlite_server.url, user.token,
                                        "polling", "3"))
    await room_members(sqlite_server, user_room(user.id), 1)
    for k in range(3):
        await realtime(sqlite_server).sio.emit("probe:event", {"k": k}, room=user_room(user.id))
    result = await node

    assert [e["k"] for e in result["events"]] == [0, 1, 2]
    assert realtime(sqlite_server).sio.manager.queued >= 3


async def test_closing_socket_is_skipped_and_others_still_receive(sqlite_server):
    user = await create_user(sqlite_server)
    sio = realtime(sqlite_server).sio
    staying = await RawSocket.connect(sqlite_server.url, user.token)
    leaving = await RawSocket.connect(sqlite_server.url, user.token)
    try:
        await room_members(sqlite_server, user_room(user.id), 2)
        eio_socket = sio.eio.sockets[sio.manager.eio_sid_from_sid(leaving.sid, "/")]
        eio_socket.closing = True  # the window while Engine.IO runs the disconnect handlers
        await sio.emit("probe:event", {"k": "skipped"}, room=user_room(user.id))
        eio_socket.closing = False
        await sio.emit("probe:event", {"k": "after"}, room=user_room(user.id))

        assert (await staying.next_event("probe:event"))["k"] == "skipped"
        assert (await staying.next_event("probe:event"))["k"] == "after"
        assert (await leaving.next_event("probe:event"))["k"] == "after"
    finally:
        await staying.close()
        await leaving.close()


async def test_slow_socket_never_blocks_emits_and_is_disconnected(start_app, make_settings, caplog):
    app = await start_app(make_settings(socket_max_outgoing=30))
    user = await create_user(app)
    sio = realtime(app).sio
    manager = sio.manager
    reader = await RawSocket.connect(app.url, user.token)
    slow = await RawSocket.connect(app.url, user.token)  # never reads after the handshake
    caplog.set_level(logging.WARNING, logger="server.realtime.fastpath")
    try:
        await room_members(app, user_room(user.id), 2)
        pad = "p" * 64_000
        for k in range(300):  # ~19 MB: far past what the kernel buffers for the slow reader
            await sio.emit("probe:event", {"k": k, "pad": pad}, room=user_room(user.id))
            data = await reader.next_event("probe:event")
            assert data["k"] == k  # the reader keeps up, in order, while the slow one stalls

        assert manager.dropped == 1
        assert SLOW_CONSUMER in caplog.text
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while len(realtime(app).registry.sids_of_user(user.id)) != 1:
            assert loop.time() < deadline, "the slow socket was not disconnected"
            await asyncio.sleep(0.05)
        # The slow client finds its connection gone once it reads what had reached it.
        received = 0
        while await slow.next_event("probe:event") is not None:
            received += 1
        assert received < 300
    finally:
        await reader.close()
        await slow.close()


@pytest.mark.usefixtures("node_ready")
@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_js_client_gets_byte_identical_events_from_fast_and_stock_paths(
        start_app, make_settings, transport):
    payloads = [
        {"k": 0, "text": "ポーカー 🂡 «ok»", "esc": "\"\\\n\t\u0000\u2028", "n": 2 ** 53,
         "f": -0.5, "big": 1e300, "flags": [True, False, None], "nested": {"a": [{"b": []}]}},
        {"k": 1, "pad": "x" * 300},     # 16-bit frame length
        {"k": 2, "pad": "y" * 70_000},  # 64-bit frame length
        {"k": 3},
    ]
    captured = {}
    for fast in (True, False):
        app = await start_app(make_settings(broadcast_fast_path=fast))
        user = await create_user(app)
        node = asyncio.create_task(run_node("fastpath_capture.mjs", app.url, user.token,
                                            transport, str(len(payloads))))
        await room_members(app, user_room(user.id), 1)
        for data in payloads:
            await realtime(app).sio.emit("probe:event", data, room=user_room(user.id))
        captured[fast] = await node
        assert captured[fast]["events"] == payloads
        assert isinstance(realtime(app).sio.manager, FastPathManager) is fast

    assert len(captured[True]["packets"]) == len(payloads)
    assert captured[True]["packets"] == captured[False]["packets"]
    assert captured[True]["frames"] == captured[False]["frames"]
    if transport == "websocket":
        assert len(captured[True]["frames"]) == len(payloads)


async def test_bench_events_exist_only_when_bench_room_is_on(start_app, make_settings):
    off = await start_app(make_settings())
    on = await start_app(make_settings(bench_room=True))
    assert "bench:pub" not in realtime(off).sio.handlers.get("/", {})
    assert {"bench:join", "bench:pub"} <= set(realtime(on).sio.handlers["/"])


@pytest.mark.usefixtures("node_ready")
async def test_runs_of_room_events_arrive_whole_and_in_order_with_direct_emits(sqlite_server):
    """`emit_many` (a group commit's events) interleaved with single emits, busy and idle."""
    app = sqlite_server
    user = await create_user(app)
    manager = realtime(app).sio.manager
    node = asyncio.create_task(run_node("fastpath_order.mjs", app.url, user.token,
                                        "websocket,websocket,polling", timeout=60))
    sids = await room_members(app, user_room(user.id), 3)
    sio = realtime(app).sio
    expected: dict[str, list[int]] = {sid: [] for sid in sids}
    k = 0
    for step in range(120):
        if step % 4 == 1:
            target = sids[step % len(sids)]
            await sio.emit("probe:event", {"k": k, "pad": "s"}, to=target)
            expected[target].append(k)
            k += 1
            continue
        size = 1 + step % 5
        pad = BIG if step % 9 == 0 else "s"  # now and then a writer is left busy
        run = [("probe:event", {"k": k + i, "pad": pad}) for i in range(size)]
        await manager.emit_many(run, "/", user_room(user.id))
        for sid in sids:
            expected[sid].extend(range(k, k + size))
        k += size
        if step % 10 == 0:
            await asyncio.sleep(0)
    await sio.emit("probe:end", {}, room=user_room(user.id))
    result = await node

    assert "error" not in result, result
    for sock in result["sockets"]:
        assert sock["ks"] == expected[sock["id"]], sock["transport"]
    assert manager.direct_writes > 0 and manager.queued > 0
    assert manager.dropped == 0
