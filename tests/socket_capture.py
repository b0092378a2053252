"""A python-socketio client for tests that keeps every event it receives, in order."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio


class CapturingSocket:
    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.received: list[tuple[str, Any]] = []
        self.client.on("*", lambda event, data=None: self.received.append((event, data)))

    @classmethod
    async def connect(cls, app: Any, token: str, device_id: str = "dev-1",
                      **auth: Any) -> CapturingSocket:
        socket = cls()
        await socket.client.connect(app.url, auth={"token": token, "device_id": device_id, **auth},
                                    transports=["websocket"], wait_timeout=5)
        return socket

    async def call(self, event: str, data: Any = None) -> dict[str, Any]:
        return await self.client.call(event, {} if data is None else data, timeout=5)

    def events(self, name: str) -> list[Any]:
        return [data for event, data in self.received if event == name]

    async def wait_for(self, name: str, count: int = 1, timeout: float = 5.0) -> list[Any]:
        """The first `count` `name` events, waiting up to `timeout` seconds for them."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.events(name)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{count} × {name} did not arrive; got "
                                     f"{[event for event, _ in self.received]}")
            await asyncio.sleep(0.05)
        return self.events(name)[:count]

    async def close(self) -> None:
        await self.client.disconnect()
