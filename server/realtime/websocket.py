"""Engine.IO's websocket transport, served so that an idle connection holds no task of its own.

Engine.IO serves a websocket with three tasks for the connection's whole life (a reader, a
writer parked on an asyncio.Queue, a ping sleeper) plus the futures and timers they wait on:
about a quarter of what an idle connection costs (35 KiB before, 26 after). Here aiohttp's
request task does the reading, a writer task exists only while packets wait in the socket's
queue, and the ping is a loop timer. While no writer runs, the fast path writes shared frames
straight to the transport.

Upgrades from long-polling and compressed websockets keep Engine.IO's own handler.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType
from aiohttp.web import WebSocketResponse
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio.async_drivers.aiohttp import WebSocket as EngineIOWebSocket

if TYPE_CHECKING:
    from server.realtime.fastpath import FastPathManager

log = logging.getLogger(__name__)

# Above this many bytes waiting in a transport's buffer, new events wait in the socket's queue
# instead, so the queue bound (not the kernel) decides when a reader is too slow.
DIRECT_WRITE_BUFFER_LIMIT = 64 * 1024

_DATA = (WSMsgType.TEXT, WSMsgType.BINARY)


class ConfiguredWebSocket(EngineIOWebSocket):
    """Engine.IO's aiohttp websocket with permessage-deflate chosen by settings."""

    compress = False

    def _response(self) -> WebSocketResponse:
        return WebSocketResponse(max_msg_size=self.server.max_http_buffer_size,
                                 compress=self.compress)

    async def _open(self, environ: dict[str, Any]) -> None:
        self._sock = self._response()
        await self._sock.prepare(environ["aiohttp.request"])
        self.environ = environ

    async def __call__(self, environ: dict[str, Any]) -> WebSocketResponse:
        await self._open(environ)
        await self.handler(self)
        return self._sock


class OutgoingQueue:
    """A websocket Engine.IO socket's outgoing packets, in the asyncio.Queue calls Engine.IO uses.

    Putting a packet starts the websocket's writer if none runs; the writer ends once the queue
    is empty. An idle socket holds no deque here (a deque costs 600 bytes even when empty).
    """

    __slots__ = ("_packets", "_ws")

    def __init__(self, ws: FastWebSocket, packets: list[Any]):
        self._packets: deque[Any] | None = deque(packets) if packets else None
        self._ws = ws

    def empty(self) -> bool:
        return not self._packets

    def qsize(self) -> int:
        return len(self._packets) if self._packets else 0

    def put_nowait(self, pkt: Any) -> None:
        if self._packets is None:
            self._packets = deque()
        self._packets.append(pkt)
        self._ws.start_writer()

    async def put(self, pkt: Any) -> None:
        self.put_nowait(pkt)

    def get_nowait(self) -> Any:
        if not self._packets:
            raise asyncio.QueueEmpty
        pkt = self._packets.popleft()
        if not self._packets:
            self._packets = None
        return pkt

    def task_done(self) -> None:
        """Nothing to count: `join` waits for the writer itself."""

    async def join(self) -> None:
        await self._ws.written()


def drain(queue: asyncio.Queue[Any]) -> list[Any]:
    packets = []
    while not queue.empty():
        packets.append(queue.get_nowait())
    return packets


class FastWebSocket(ConfiguredWebSocket):
    """A websocket the fast path may write to directly while no packet waits for it."""

    manager: FastPathManager

    async def __call__(self, environ: dict[str, Any]) -> WebSocketResponse:
        await self._open(environ)
        self.sending = False
        self._writer: asyncio.Task[None] | None = None
        self.transport = self._sock._writer.transport  # type: ignore[union-attr]
        # Engine.IO passes its socket's bound handler; the socket is the one this websocket serves.
        self.eio_socket = self.handler.__self__
        if self._sock.compress:  # a deflate stream cannot share one frame
            await self.handler(self)
            return self._sock
        sid = self.eio_socket.sid
        self.manager.attach(sid, self)
        try:
            if self.eio_socket.connected:  # an upgrade from long-polling
                await self.handler(self)
            else:
                await self._serve()
        finally:
            self.manager.detach(sid, self)
        return self._sock

    async def _serve(self) -> None:
        """Engine.IO's websocket handler for a connection that starts on the websocket."""
        sock = self.eio_socket
        server = sock.server
        sock.queue = OutgoingQueue(self, drain(sock.queue))  # the OPEN packet is waiting there
        sock.connected = sock.upgraded = True
        self.start_writer()
        timeout = server.ping_interval + server.ping_timeout
        try:
            while True:
                try:
                    msg = await self._sock.receive(timeout)
                except TimeoutError:
                    break
                if msg.type not in _DATA or len(msg.data) > server.max_http_buffer_size:
                    break
                try:
                    await sock.receive(eio_packet.Packet(encoded_packet=msg.data))
                except eio_exceptions.UnknownPacketError:
                    pass
                except eio_exceptions.SocketIsClosedError:
                    break
                except Exception:
                    log.exception("engine.io socket %s: receive error", sock.sid)
        finally:
            # Whatever is still queued has no reader any more.
            if self._writing():
                self._writer.cancel()  # type: ignore[union-attr]
            await self._sock.close()
            await sock.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)

    def _writing(self) -> bool:
        return self._writer is not None and not self._writer.done()

    def start_writer(self) -> None:
        if not self._writing() and not self.eio_socket.queue.empty():
            self._writer = asyncio.get_running_loop().create_task(self._write_queued())

    async def _write_queued(self) -> None:
        queue = self.eio_socket.queue
        try:
            while not queue.empty():
                pkt = queue.get_nowait()
                if pkt is None:  # Engine.IO's "stop writing"
                    break
                await self.send(pkt.encode())
        except Exception:  # noqa: BLE001 - a dead transport: the reader sees it close
            self.transport.abort()
        finally:
            self._writer = None

    async def written(self) -> None:
        """Return once every queued packet is on the transport (or the writer gave up)."""
        while self._writing():
            await asyncio.wait({self._writer})  # type: ignore[arg-type]

    async def send(self, message: Any) -> None:
        # `sending` marks the writer as busy for the whole call, including the drain wait,
        # so no direct write can overtake a packet the writer already took from the queue.
        self.sending = True
        try:
            frame = getattr(message, "frame", None)
            if frame is None or self._sock.compress:
                await super().send(message)
                return
            if self.transport.is_closing():
                raise ConnectionResetError("websocket transport is closing")
            self.transport.write(frame)
            if self.transport.get_write_buffer_size() > DIRECT_WRITE_BUFFER_LIMIT:
                await self._sock._payload_writer.drain()  # type: ignore[union-attr]
        finally:
            self.sending = False


def ping_by_timer(sock: Any) -> None:
    """Run an Engine.IO socket's ping cycle on a loop timer instead of a sleeping task."""
    loop = asyncio.get_running_loop()
    interval = sock.server.ping_interval

    def ping() -> None:
        if not sock.closing and not sock.closed:
            sock.last_ping = time.time()
            sock.queue.put_nowait(eio_packet.Packet(eio_packet.PING))

    def schedule() -> None:
        if sock.last_ping:  # Engine.IO's rule: one ping awaiting its pong at a time
            sock.last_ping = None
            loop.call_later(interval, ping)

    sock.schedule_ping = schedule
