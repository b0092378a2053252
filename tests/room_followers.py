"""Drive tests/js/room_follower.mjs: start followers, wait until they joined, collect the outcome."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.services import ROOT


class Followers:
    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc

    @classmethod
    async def start(cls, **config: Any) -> Followers:
        proc = await asyncio.create_subprocess_exec(
            "node", str(ROOT / "tests" / "js" / "room_follower.mjs"), json.dumps(config),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        )
        followers = cls(proc)
        line = await asyncio.wait_for(proc.stdout.readline(), 20)  # type: ignore[union-attr]
        if json.loads(line or b"{}").get("ready") is not True:
            result = await followers.result()
            raise AssertionError(f"followers did not get ready: {line!r} {result}")
        return followers

    async def result(self, timeout: float = 60.0) -> dict[str, Any]:
        out, err = await asyncio.wait_for(self.proc.communicate(), timeout)
        lines = out.decode().strip().splitlines()
        assert lines, f"no outcome; stderr: {err.decode()[-2000:]}"
        return json.loads(lines[-1])
