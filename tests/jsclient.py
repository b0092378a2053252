"""Run the Node scripts in tests/js (official socket.io-client) from async tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.services import ROOT


async def run_node(script: str, *args: str, timeout: float = 30.0) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        "node", str(ROOT / "tests" / "js" / script), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    lines = out.decode().strip().splitlines()
    assert lines, f"{script} printed nothing; stderr: {err.decode()[-2000:]}"
    return json.loads(lines[-1])
