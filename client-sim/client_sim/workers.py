"""Run one coroutine per worker process and gather what each returns."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from collections.abc import Callable
from typing import Any

Job = Callable[..., Any]  # async def job(index, share, control, *args) -> dict


def _entry(job: Job, index: int, share: list[Any], control: Any, args: tuple, out: Any) -> None:
    try:
        out.put((index, asyncio.run(job(index, share, control, *args))))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        out.put((index, {"error": repr(exc)}))


def split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts)]


class Workers:
    """Processes that each run `job` on their share; `control` lets the parent pace phases."""

    def __init__(self, job: Job, items: list[Any], processes: int, *args: Any):
        ctx = mp.get_context("spawn")
        self.control = ctx.Manager().dict()
        self._out = ctx.Queue()
        shares = split(items, max(1, min(processes, len(items))))
        self._procs = [ctx.Process(target=_entry, args=(job, i, share, self.control, args, self._out),
                                   daemon=True) for i, share in enumerate(shares)]

    def start(self) -> Workers:
        for proc in self._procs:
            proc.start()
        return self

    def results(self, timeout: float = 600.0) -> list[dict[str, Any]]:
        got = dict(self._out.get(timeout=timeout) for _ in self._procs)
        for proc in self._procs:
            proc.join(10)
        return [got[i] for i in sorted(got)]
