"""The event loop a worker process runs on, with optional read batching.

On one machine a reader that waits in epoll makes every write the server sends it pay for a
cross-core wakeup, charged to the server's CPU: on loopback the sender runs the receiver's
TCP path. Clients on other hosts cost a server nothing of the kind. A worker that pauses for
`read_batch_ms` before each wait is not on the sockets' wait queues meanwhile, so the server
writes without waking it and the worker then reads many frames per wakeup. It adds at most
that pause to each latency the worker measures (client-sim/README.md has the figures).
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Coroutine
from typing import Any


class BatchingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    def __init__(self, pause: float):
        super().__init__()
        self._pause = pause

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None or timeout > 0:
            time.sleep(self._pause if timeout is None else min(self._pause, timeout))
        return super().select(timeout)


def run(coro: Coroutine[Any, Any, Any], read_batch_ms: float = 0.0) -> Any:
    """`asyncio.run(coro)`, on a loop that batches reads when `read_batch_ms` > 0."""
    if read_batch_ms <= 0:
        return asyncio.run(coro)
    pause = read_batch_ms / 1000
    with asyncio.Runner(loop_factory=lambda: asyncio.SelectorEventLoop(BatchingSelector(pause))) as runner:
        return runner.run(coro)
