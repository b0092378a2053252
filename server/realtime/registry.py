"""Who is connected to this instance: sessions by socket id, and sockets by user and device."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from server.realtime.throttle import TokenBucket


@dataclass
class SocketSession:
    sid: str
    user_id: int
    device_id: str
    expires_at: int  # the access token's `exp`; events after it need `auth:refresh`
    rooms: set[str] = field(default_factory=set)  # rooms joined through Membership
    bucket: TokenBucket | None = None  # per-socket event rate
    transport: Any = None  # the TCP transport, to cut off a socket that stopped reading
    generation: int = 0  # the device's session generation in the token (see Device)


class ConnectionRegistry:
    def __init__(self) -> None:
        self._sessions: dict[str, SocketSession] = {}
        self._by_user: dict[int, set[str]] = defaultdict(set)
        self.rate_limited = 0  # socket events refused by the per-socket rate limit

    def add(self, session: SocketSession) -> None:
        self._sessions[session.sid] = session
        self._by_user[session.user_id].add(session.sid)

    def remove(self, sid: str) -> SocketSession | None:
        session = self._sessions.pop(sid, None)
        if session is not None:
            sids = self._by_user.get(session.user_id)
            if sids is not None:
                sids.discard(sid)
                if not sids:
                    del self._by_user[session.user_id]
        return session

    def get(self, sid: str) -> SocketSession | None:
        return self._sessions.get(sid)

    def sids_of_user(self, user_id: int) -> list[str]:
        return list(self._by_user.get(user_id, ()))

    def sids_of_device(self, user_id: int, device_id: str) -> list[str]:
        return [sid for sid in self._by_user.get(user_id, ())
                if self._sessions[sid].device_id == device_id]

    def sids(self) -> list[str]:
        return list(self._sessions)

    def __len__(self) -> int:
        return len(self._sessions)
