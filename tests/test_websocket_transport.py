"""The websocket transport: an idle connection holds no task of its own, pings run on a timer,
and a server-side disconnect still reaches the client before the connection ends."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from server import keys
from server.realtime.websocket import OutgoingQueue
from tests.factories import create_user
from tests.test_fastpath import RawSocket

CONNECTIONS = 10
AIOHTTP_TASKS_PER_CONNECTION = 2  # aiohttp's protocol task and its request handler task


def eio_sockets(server):
    return server.app[keys.REALTIME].sio.eio.sockets


async def test_idle_websocket_connections_hold_only_aiohttps_own_tasks(sqlite_server):
    user = await create_user(sqlite_server)
    first = await RawSocket.connect(sqlite_server.url, user.token)  # starts the server-wide tasks
    await asyncio.sleep(0.5)
    before = asyncio.all_tasks()
    sockets = [first] + [await RawSocket.connect(sqlite_server.url, user.token)
                         for _ in range(CONNECTIONS)]
    try:
        for _ in range(50):  # until connect-time work (auth, welcome events) has finished
            await asyncio.sleep(0.1)
            added = asyncio.all_tasks() - before
            names = sorted(t.get_coro().__qualname__ for t in added)
            if len(added) <= CONNECTIONS * AIOHTTP_TASKS_PER_CONNECTION:
                break
        assert len(added) <= CONNECTIONS * AIOHTTP_TASKS_PER_CONNECTION, names
        assert not any("writ" in name or "ping" in name for name in names), names
        for sock in eio_sockets(sqlite_server).values():
            assert isinstance(sock.queue, OutgoingQueue) and sock.queue.empty()
    finally:
        for socket in sockets:
            await socket.close()


async def test_pings_keep_an_answering_client_and_drop_a_silent_one(start_app, make_settings):
    server = await start_app(make_settings(ping_interval=0.3, ping_timeout=0.5))
    user = await create_user(server)
    answering = await RawSocket.connect(server.url, user.token)
    silent = await RawSocket.connect(server.url, user.token)
    try:
        pings = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2.0
        while loop.time() < deadline:
            msg = await asyncio.wait_for(answering.ws.receive(), 2.0)
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            if msg.data == "2":
                pings += 1
                await answering.ws.send_str("3")
        assert pings >= 3  # one per interval, each after the previous pong (about 6)

        seen = []
        while True:  # never answers: the server closes it after interval + timeout
            msg = await asyncio.wait_for(silent.ws.receive(), 3.0)
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            seen.append(msg.data)
        assert "2" in seen
        assert silent.sid not in [s for s, _ in
                                  server.app[keys.REALTIME].sio.manager.get_participants("/", f"user_{user.id}")]
    finally:
        await answering.close()
        await silent.close()


@pytest.mark.parametrize("queued", [0, 50])
async def test_a_server_side_disconnect_comes_after_what_was_queued(sqlite_server, queued):
    user = await create_user(sqlite_server)
    socket = await RawSocket.connect(sqlite_server.url, user.token)
    sio = sqlite_server.app[keys.REALTIME].sio
    try:
        for k in range(queued):
            await sio.emit("probe:event", {"k": k}, to=socket.sid)
        await sio.disconnect(socket.sid)
        got = []
        while not got or got[-1] != "41":  # Socket.IO DISCONNECT: the client then hangs up
            try:
                msg = await asyncio.wait_for(socket.ws.receive(), 5.0)
            except TimeoutError:
                raise AssertionError(got) from None
            assert msg.type == aiohttp.WSMsgType.TEXT, (msg, got)
            got.append(msg.data)
        assert got[:-1] == [f'42["probe:event",{{"k":{k}}}]' for k in range(queued)]
        await socket.ws.close()
        for _ in range(100):
            if not eio_sockets(sqlite_server):
                break
            await asyncio.sleep(0.05)
        assert not eio_sockets(sqlite_server)  # the server let the connection go
    finally:
        await socket.close()
