"""Access tokens for simulated users: read from a file, handed out in turn, and who they are."""

from __future__ import annotations

import base64
import json
from pathlib import Path


def read_tokens(path: Path) -> list[str]:
    """One access token per line; blank lines are skipped."""
    tokens = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not tokens:
        raise ValueError(f"{path} holds no tokens")
    return tokens


def take(tokens: list[str], count: int, start: int = 0) -> list[str]:
    """`count` tokens from `start` on, reusing the list from the top when it runs out."""
    return [tokens[(start + i) % len(tokens)] for i in range(count)]


def user_id(token: str) -> int:
    """The user a token was issued to (its `sub` claim; the server checks the signature)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return int(claims["sub"])
