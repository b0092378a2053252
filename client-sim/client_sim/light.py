"""A light Socket.IO v5 / Engine.IO v4 websocket client: just enough protocol for load.

Its own websocket framing on an asyncio Protocol (no per-message futures or message objects),
so one process can take well over 100k small frames/s. It answers pings, sends events with
acks, and hands each received event to a callback, decoded or raw (`on_raw`, for counting
without parsing JSON).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import struct
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson

OnEvent = Callable[[str, Any], None]
OnRaw = Callable[[bytes], None]


class ConnectRefused(Exception):
    pass


def _masked(opcode: int, payload: bytes) -> bytes:
    """A client frame (RFC 6455 requires clients to mask)."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    mask = os.urandom(4)
    key = (mask * (size // 4 + 1))[:size]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")
    return header + mask + body


class _WebSocket(asyncio.Protocol):
    def __init__(self, on_text: Callable[[bytes], None]):
        self.on_text = on_text
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.closed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed during the handshake"))
        self.closed.set()

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        if not self.upgraded.done():
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n", 1)[0]
            del buf[:end + 4]
            if b" 101 " not in status + b" ":
                self.upgraded.set_exception(ConnectRefused(status.decode(errors="replace")))
                return
            self.upgraded.set_result(None)
        pos, size = 0, len(buf)
        while size - pos >= 2:
            opcode, length = buf[pos] & 0x0F, buf[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length, start = int.from_bytes(buf[pos + 2:pos + 4], "big"), pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, start = int.from_bytes(buf[pos + 2:pos + 10], "big"), pos + 10
            if size - start < length:
                break
            payload = bytes(buf[start:start + length])
            pos = start + length
            if opcode == 1:
                self.on_text(payload)
            elif opcode == 9:
                self.send(10, payload)
            elif opcode == 8 and self.transport is not None:
                self.transport.close()
        del buf[:pos]

    def send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_masked(opcode, payload))


class LightClient:
    def __init__(self, http: Any, url: str, auth: dict[str, Any],
                 on_event: OnEvent | None = None, on_raw: OnRaw | None = None):
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._auth = auth
        self._on_event = on_event
        self.on_raw = on_raw
        self._ws: _WebSocket | None = None
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._next_ack = 0
        self._opened: asyncio.Future[str] | None = None
        self.sid: str | None = None
        self.closed = asyncio.Event()

    async def connect(self, timeout: float = 20.0) -> None:
        loop = asyncio.get_running_loop()
        self._opened = loop.create_future()
        async with asyncio.timeout(timeout):
            _, ws = await loop.create_connection(lambda: _WebSocket(self._text), self._host,
                                                 self._port)
            self._ws = ws
            key = base64.b64encode(os.urandom(16)).decode()
            ws.transport.write((  # type: ignore[union-attr]
                f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {self._host}:"
                f"{self._port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
            await ws.upgraded
            self.sid = await self._opened
        loop.create_task(self._watch_close(ws))

    async def _watch_close(self, ws: _WebSocket) -> None:
        await ws.closed.wait()
        self.closed.set()
        for fut in self._acks.values():
            if not fut.done():
                fut.set_exception(ConnectionError("connection closed"))

    def _text(self, data: bytes) -> None:
        kind = data[:1]
        if kind == b"4":
            if data.startswith(b"42"):
                if self.on_raw is not None:
                    self.on_raw(data)
                elif self._on_event is not None:
                    event, *args = orjson.loads(data[2:])
                    self._on_event(event, args[0] if args else None)
            elif data[1:2] == b"3":
                bracket = data.index(b"[")
                fut = self._acks.get(int(data[2:bracket]))
                if fut is not None and not fut.done():
                    fut.set_result(orjson.loads(data[bracket:])[0])
            elif data[1:2] == b"0" and self._opened is not None and not self._opened.done():
                self._opened.set_result(orjson.loads(data[2:])["sid"])
            elif data[1:2] == b"4" and self._opened is not None and not self._opened.done():
                self._opened.set_exception(ConnectRefused(data[2:].decode(errors="replace")))
        elif kind == b"2":
            self._ws.send(1, b"3")  # type: ignore[union-attr]
        elif kind == b"0":
            self._ws.send(1, b"40" + orjson.dumps(self._auth))  # type: ignore[union-attr]

    async def emit(self, event: str, data: Any) -> None:
        assert self._ws is not None
        self._ws.send(1, b"42" + orjson.dumps([event, data]))

    async def call(self, event: str, data: Any, timeout: float = 20.0) -> Any:
        assert self._ws is not None
        self._next_ack += 1
        ack_id = self._next_ack
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = fut
        self._ws.send(1, b"42" + str(ack_id).encode() + orjson.dumps([event, data]))
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._acks.pop(ack_id, None)

    async def close(self) -> None:
        if self._ws is not None and self._ws.transport is not None:
            self._ws.send(8, b"\x03\xe8")
            self._ws.transport.close()

    def drop(self) -> None:
        """Cut the connection like a lost network: no close frame, the socket just goes."""
        if self._ws is not None and self._ws.transport is not None:
            self._ws.transport.abort()


def http_session() -> contextlib.nullcontext[None]:
    """Kept for callers that open one per process; the light client needs no HTTP session."""
    return contextlib.nullcontext()
