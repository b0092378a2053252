"""Malformed and oversized Engine.IO / Socket.IO packets from a raw client never take the
server down: each bad socket is refused or closed, and a well-behaved one still works."""

import json

import aiohttp

from tests.factories import create_user

WS_PATH = "/socket.io/?EIO=4&transport=websocket"
POLL_PATH = "/socket.io/?EIO=4&transport=polling"

MALFORMED_TEXT = [
    "", "9", "x", "4", "40{", "40{\"token\": 7}", "40[1,2]", "42", "42[", "42[\"system:ping\"",
    "42{}", "42[1,2,3]", "42[\"system:ping\",{\"nonce\":" + "[" * 5000 + "]", "43", "44",
    "45-[\"x\"]", "451-[\"x\",{\"_placeholder\":true,\"num\":9}]", "46", "4" + "9" * 400,
    "2probe" * 1000, "6", "5", "1", "0{}", "\u0000\uffff", "42/nope,[\"x\"]",
]
MALFORMED_BINARY = [b"", b"\x00", b"\xff" * 64, b"\x04" + b"garbage" * 100]


async def open_ws(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(url + WS_PATH, timeout=aiohttp.ClientWSTimeout(ws_close=5))
    opened = await ws.receive(timeout=5)
    assert opened.type == aiohttp.WSMsgType.TEXT and opened.data.startswith("0{"), opened
    return ws


async def drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Read until the server answers nothing more or closes; either is fine."""
    while True:
        try:
            msg = await ws.receive(timeout=0.3)
        except TimeoutError:
            return
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            return


async def healthy_socket_round_trip(http: aiohttp.ClientSession, url: str, token: str) -> dict:
    ws = await open_ws(http, url)
    await ws.send_str("40" + json.dumps({"token": token, "device_id": "raw"}))
    got_ready = False
    await ws.send_str("42" + "7" + json.dumps(["system:ping", {"nonce": "after-abuse"}]))
    for _ in range(20):
        msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        if msg.data == "2":
            await ws.send_str("3")
        elif msg.data.startswith("42") and "session:ready" in msg.data:
            got_ready = True
        elif msg.data.startswith("437"):
            await ws.close()
            return {"ready": got_ready, "ack": json.loads(msg.data[3:])[0]}
    raise AssertionError("no ack")


async def test_malformed_and_oversized_packets_never_crash_the_server(start_app, make_settings, caplog):
    app = await start_app(make_settings(max_event_bytes=4096))
    user = await create_user(app)
    async with aiohttp.ClientSession() as http:
        for frame in MALFORMED_TEXT:
            ws = await open_ws(http, app.url)
            await ws.send_str(frame)
            await drain(ws)
            await ws.close()
        for frame in MALFORMED_BINARY:
            ws = await open_ws(http, app.url)
            await ws.send_bytes(frame)
            await drain(ws)
            await ws.close()
        # Over the Engine.IO buffer: the socket is closed, nothing is parsed.
        ws = await open_ws(http, app.url)
        await ws.send_str("42" + json.dumps(["system:ping", {"nonce": "y" * 200_000}]))
        closed = await ws.receive(timeout=5)
        assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), closed
        # Polling: garbage bodies and unknown sessions are answered with 400, not 500.
        for body in (b"", b"\xff\xfe", b"42[", b"1:x" * 10):
            async with http.post(app.url + POLL_PATH + "&sid=nope", data=body) as resp:
                assert resp.status == 400, (body, resp.status)
        async with http.get(app.url + "/socket.io/?EIO=99&transport=polling") as resp:
            assert resp.status == 400
        async with http.get(app.url + "/healthz") as resp:
            assert resp.status == 200
        result = await healthy_socket_round_trip(http, app.url, user.token)
    assert result["ready"] is True
    assert result["ack"]["status"] == "ok"
    # aiohttp logs a handler that raised (a 500 or a dropped connection) at ERROR.
    crashed = [r for r in caplog.records if r.name.startswith("aiohttp") and r.levelname == "ERROR"]
    assert not crashed, [r.getMessage() for r in crashed]
