"""Run one coroutine per worker process and gather what each returns."""

from __future__ import annotations

import math
import multiprocessing as mp
import time
from collections.abc import Callable
from typing import Any

from client_sim import loop

Job = Callable[..., Any]  # async def job(index, share, control, *args) -> dict

CLIENTS_PER_PROCESS = 200  # below this, another process costs more than it brings


def _entry(job: Job, index: int, share: list[Any], control: Any, args: tuple, out: Any,
           read_batch_ms: float) -> None:
    try:
        out.put((index, loop.run(job(index, share, control, *args), read_batch_ms)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        out.put((index, {"error": repr(exc)}))


def split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts)]


def processes_for(clients: int, limit: int, per_process: int = CLIENTS_PER_PROCESS) -> int:
    """Spread large client counts over up to `limit` processes; small ones stay in one."""
    return max(1, min(limit, math.ceil(clients / per_process)))


class Workers:
    """Processes that each run `job` on their share; `control` lets the parent pace phases.

    A worker reports progress by setting `control[f"{key}{index}"]`; the parent reads it with
    `tally(key)` or waits for every worker with `wait_for(key)`. `read_batch_ms` > 0 runs them
    on a loop that batches reads (`client_sim.loop`).
    """

    def __init__(self, job: Job, items: list[Any], processes: int, *args: Any,
                 read_batch_ms: float = 0.0):
        ctx = mp.get_context("spawn")
        self.control = ctx.Manager().dict()
        self._out = ctx.Queue()
        shares = split(items, max(1, min(processes, len(items))))
        self._procs = [ctx.Process(target=_entry, daemon=True,
                                   args=(job, i, share, self.control, args, self._out,
                                         read_batch_ms))
                       for i, share in enumerate(shares)]

    @property
    def size(self) -> int:
        return len(self._procs)

    def start(self) -> Workers:
        for proc in self._procs:
            proc.start()
        return self

    def tally(self, key: str) -> tuple[int, int]:
        """(how many workers reported `key`, the sum of what they reported)."""
        values = [self.control.get(f"{key}{i}") for i in range(self.size)]
        reported = [v for v in values if v is not None]
        return len(reported), sum(reported)

    def wait_for(self, key: str, progress: Callable[[int], Any] | None = None,
                 timeout: float = 300.0, count: str | None = None) -> int:
        """Wait until every worker reported `key` (or one died, or time ran out); the sum.

        `progress` gets the running sum of `count` (default `key`) while it waits.
        """
        deadline = time.monotonic() + timeout
        while True:
            reported, total = self.tally(key)
            if progress is not None:
                progress(self.tally(count)[1] if count else total)
            if (reported == self.size or time.monotonic() > deadline
                    or any(not p.is_alive() for p in self._procs)):
                return total
            time.sleep(0.1)

    def results(self, timeout: float = 600.0) -> list[dict[str, Any]]:
        got = dict(self._out.get(timeout=timeout) for _ in self._procs)
        for proc in self._procs:
            proc.join(10)
        return [got[i] for i in sorted(got)]
