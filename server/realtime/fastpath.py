"""Broadcast fast path: a python-socketio client manager that encodes a room event once.

The stock AsyncManager starts a task per recipient, and every socket runs a queue and a writer
task, so one room event to 2000 members costs 2000 tasks and 4000 context switches. Here an
emit encodes the Socket.IO packet once, builds the websocket frame once, and writes those same
bytes straight to each member's transport when that socket's Engine.IO writer is idle.
Consecutive events of one room (a group commit of the event bus) go out together: their frames
are joined once and each member gets them in one write, one system call instead of one per event.

Per-socket order: a socket's writer is idle when its Engine.IO queue is empty and it is not
suspended inside a send. Anything emitted earlier to that socket is then already on the
transport, so a direct write lands behind it. Otherwise the shared packet goes into the
socket's own queue (the ordered path Engine.IO already has), and the writer sends the
pre-built frame when it gets there. Polling clients always take their queue. A websocket's
writer runs only while its queue holds packets (`server/realtime/websocket.py`).

Never blocked by a slow socket: an emit does no I/O waits at all. A socket whose queue reaches
`max_queued` packets is disconnected with the reason `SLOW_CONSUMER`; the queue holds
references to the shared packet, so a slow member costs a pointer per event, not a copy.

Everything else (acks with callbacks, binary attachments) goes through the stock manager.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Iterable
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from server.realtime.websocket import (
    DIRECT_WRITE_BUFFER_LIMIT,
    ConfiguredWebSocket,
    FastWebSocket,
    ping_by_timer,
)

log = logging.getLogger(__name__)

SLOW_CONSUMER = "slow_consumer"  # the reason the disconnect handlers receive
_TEXT_FIN = 0x81


def text_frame(payload: bytes) -> bytes:
    """One unmasked, final websocket text frame (server to client, RFC 6455 section 5.2)."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", _TEXT_FIN, size)
    elif size < 65536:
        header = struct.pack("!BBH", _TEXT_FIN, 126, size)
    else:
        header = struct.pack("!BBQ", _TEXT_FIN, 127, size)
    return header + payload


class FramedText(str):
    """An Engine.IO message as text, carrying its websocket frame built once for all members."""

    frame: bytes


def shared_message(encoded_sio_packet: str) -> eio_packet.Packet:
    """An Engine.IO MESSAGE packet whose encoding (text and frame) is computed once."""
    pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded_sio_packet)
    wire = FramedText("4" + encoded_sio_packet)
    wire.frame = text_frame(wire.encode())
    # Engine.IO's writer and the polling payload both call encode(); they get the cached text.
    pkt.encode_cache = wire
    return pkt


class FastPathManager(socketio.AsyncManager):
    """Room emits: encode once, frame once, write to idle websockets, queue for the rest."""

    def __init__(self, max_queued: int = 1000):
        super().__init__()
        self.max_queued = max_queued
        self._direct: dict[str, FastWebSocket] = {}
        self._dropping: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # Recipients served by a direct write, through a socket's queue, and dropped as slow.
        self.direct_writes = 0
        self.queued = 0
        self.dropped = 0

    def attach(self, eio_sid: str, ws: FastWebSocket) -> None:
        self._direct[eio_sid] = ws

    def detach(self, eio_sid: str, ws: FastWebSocket) -> None:
        if self._direct.get(eio_sid) is ws:
            del self._direct[eio_sid]

    async def emit(self, event: str, data: Any, namespace: str, room: Any = None,
                   skip_sid: Any = None, callback: Any = None, to: Any = None,
                   **kwargs: Any) -> None:
        room = to or room
        if namespace not in self.rooms:
            return
        pkt = None if callback is not None else self._shared_packet(event, data, namespace)
        if pkt is None:  # acks with callbacks, binary attachments: the stock path
            return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                                      callback=callback, **kwargs)
        self.deliver([pkt], self._members(namespace, room, skip_sid))

    async def emit_many(self, events: list[tuple[str, Any]], namespace: str, room: str) -> None:
        """Several events to one room, in order: one write per member for all of them."""
        if namespace not in self.rooms:
            return
        pkts = [self._shared_packet(event, data, namespace) for event, data in events]
        if any(pkt is None for pkt in pkts):
            for event, data in events:
                await self.emit(event, data, namespace, room=room)
            return
        self.deliver(pkts, self._members(namespace, room, None))  # type: ignore[arg-type]

    def _shared_packet(self, event: str, data: Any, namespace: str) -> eio_packet.Packet | None:
        if isinstance(data, tuple):
            args = list(data)
        elif data is not None:
            args = [data]
        else:
            args = []
        encoded = self.server.packet_class(sio_packet.EVENT, namespace=namespace,
                                           data=[event, *args]).encode()
        if isinstance(encoded, list):  # binary attachments: several packets
            return None
        return shared_message(encoded)

    def _members(self, namespace: str, room: Any, skip_sid: Any) -> Iterable[str]:
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        return (eio_sid for sid, eio_sid in self.get_participants(namespace, room)
                if sid not in skip)

    def deliver(self, pkts: list[eio_packet.Packet], eio_sids: Iterable[str]) -> None:
        """Hand shared packets to each socket, in order, without waiting on any of them."""
        frames = b"".join(pkt.encode_cache.frame for pkt in pkts)
        direct = self._direct
        sockets = self.server.eio.sockets
        dropping = self._dropping
        direct_writes = queued = 0
        for eio_sid in eio_sids:
            ws = direct.get(eio_sid)
            sock = ws.eio_socket if ws is not None else sockets.get(eio_sid)
            if sock is None or sock.closing or sock.closed or eio_sid in dropping:
                continue
            queue = sock.queue
            # `upgraded`: during a polling→websocket upgrade the client still reads polling.
            if (ws is not None and sock.upgraded and not ws.sending and queue.empty()
                    and ws.transport.get_write_buffer_size() <= DIRECT_WRITE_BUFFER_LIMIT):
                if not ws.transport.is_closing():
                    ws.transport.write(frames)
                    direct_writes += len(pkts)
                continue
            if queue.qsize() + len(pkts) > self.max_queued:
                self._drop(eio_sid, sock, ws)
                continue
            for pkt in pkts:
                queue.put_nowait(pkt)
            queued += len(pkts)
        self.direct_writes += direct_writes
        self.queued += queued

    def _drop(self, eio_sid: str, sock: Any, ws: FastWebSocket | None) -> None:
        self.dropped += 1
        self._dropping.add(eio_sid)
        task = asyncio.get_running_loop().create_task(self._close_slow(eio_sid, sock, ws))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close_slow(self, eio_sid: str, sock: Any, ws: FastWebSocket | None) -> None:
        log.warning("disconnecting %s: %s (%d packets queued)", eio_sid, SLOW_CONSUMER,
                    sock.queue.qsize())
        try:
            # abort: no CLOSE packet behind a full queue; the disconnect handlers see the reason.
            await sock.close(wait=False, abort=True, reason=SLOW_CONSUMER)
            if ws is not None:
                ws.transport.abort()
            else:
                sock.queue.put_nowait(None)  # end a pending long-poll
        finally:
            self._dropping.discard(eio_sid)


def install(sio: socketio.AsyncServer, *, compress: bool) -> None:
    """Give this server's Engine.IO a websocket class with our compression choice.

    With the fast path manager, that class also lets the manager write frames directly, and
    every socket's ping runs on a timer. The driver table is copied so other servers in the
    process keep theirs.
    """
    manager = sio.manager
    if isinstance(manager, FastPathManager):
        ws_class: type = type("BoundFastWebSocket", (FastWebSocket,),
                              {"compress": compress, "manager": manager})
        on_connect = sio.eio.handlers["connect"]

        async def connect_with_timer_ping(eio_sid: str, environ: dict[str, Any]) -> Any:
            ping_by_timer(sio.eio.sockets[eio_sid])  # before Engine.IO schedules the first ping
            return await on_connect(eio_sid, environ)

        sio.eio.on("connect", connect_with_timer_ping)
    else:
        ws_class = type("BoundWebSocket", (ConfiguredWebSocket,), {"compress": compress})
    sio.eio._async = {**sio.eio._async, "websocket": ws_class}


def make_client_manager(fast_path: bool, max_queued: int) -> socketio.AsyncManager:
    return FastPathManager(max_queued) if fast_path else socketio.AsyncManager()
