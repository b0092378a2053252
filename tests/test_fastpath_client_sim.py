"""client-sim's light client speaks enough Socket.IO to be a fair load generator."""

from __future__ import annotations

import asyncio

import pytest
from client_sim.light import ConnectRefused, LightClient

from server import keys
from server.realtime.connection import user_room
from tests.factories import create_user


async def test_light_client_receives_room_events_in_order_and_gets_acks(sqlite_server):
    user = await create_user(sqlite_server)
    got: list[tuple[str, object]] = []
    client = LightClient(None, sqlite_server.url, {"token": user.token, "device_id": "dev-1"},
                         on_event=lambda event, data: got.append((event, data)))
    await client.connect()
    try:
        ack = await client.call("system:ping", {"nonce": "n"})
        assert ack["status"] == "ok" and ack["data"]["nonce"] == "n"
        sio = sqlite_server.app[keys.REALTIME].sio
        for k in range(50):
            await sio.emit("probe:event", {"k": k, "pad": "z" * (k * 3000)}, room=user_room(user.id))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while sum(1 for e, _ in got if e == "probe:event") < 50:
            assert loop.time() < deadline
            await asyncio.sleep(0.02)
        assert [d["k"] for e, d in got if e == "probe:event"] == list(range(50))
    finally:
        await client.close()


async def test_light_client_is_refused_with_a_bad_token(sqlite_server):
    client = LightClient(None, sqlite_server.url, {"token": "forged", "device_id": "dev-1"})
    with pytest.raises(ConnectRefused, match="unauthorized"):
        await client.connect()
    await client.close()


def test_the_batching_selector_pauses_before_a_blocking_wait_only():
    import selectors
    import socket
    import time

    from client_sim.loop import BatchingSelector

    reader, writer = socket.socketpair()
    with reader, writer, BatchingSelector(0.05) as selector:
        selector.register(reader, selectors.EVENT_READ)
        writer.send(b"x")
        started = time.perf_counter()
        assert len(selector.select(0)) == 1  # ready callbacks pending: no pause
        assert time.perf_counter() - started < 0.05
        started = time.perf_counter()
        assert len(selector.select(None)) == 1
        assert time.perf_counter() - started >= 0.05


def test_a_loop_with_read_batching_runs_a_client_like_the_plain_one():
    from client_sim import loop

    async def echo() -> bytes:
        server = await asyncio.start_server(lambda r, w: w.write(b"pong"), "127.0.0.1", 0)
        async with server:
            reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
            data = await reader.readexactly(4)
            writer.close()
            return data

    assert loop.run(echo(), 2.0) == loop.run(echo(), 0) == b"pong"
