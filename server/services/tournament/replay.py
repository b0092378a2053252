"""Rebuild a tournament's progress from its room event log alone (acceptance criterion 2)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def replay(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Fold `{seq, event, data}` records, in seq order, into the tournament's progress."""
    progress: dict[str, Any] = {"state": None, "level": 1, "on_break": False, "game": None,
                                "status": "scheduled", "results": None, "balances": [],
                                "game_switches": [], "last_seq": 0}
    for record in events:
        if record["seq"] != progress["last_seq"] + 1:
            raise ValueError(f"gap in the log before seq {record['seq']}")
        progress["last_seq"] = record["seq"]
        name, data = record["event"], record["data"]
        if name == "tournament:created":
            progress["game"] = data["structure"]["levels"][0]["game"]
        elif name == "tournament:update":
            progress["state"] = data["state"]
        elif name == "level:up":
            progress.update(level=data["level"], game=data["game"], on_break=False)
        elif name == "break:start":
            progress["on_break"] = True
        elif name == "break:end":
            progress["on_break"] = False
        elif name == "game:switch":
            progress["game_switches"].append((data["level"], data["from"], data["to"]))
        elif name == "tournament:balance":
            progress["balances"].append(data["moves"])
        elif name in ("clock:start", "clock:resume"):
            progress["status"] = "running"
        elif name == "clock:pause":
            progress["status"] = "paused"
        elif name == "tournament:finished":
            progress.update(status="finished", results=data["results"])
    return progress
