"""The single wrapper every client→server event goes through.

Order (STYLE.md, "One event, one path"): parse with the event's schema → session check
(token not expired) → per-socket rate (a token bucket, before any work) → the handler
(authorization, service call) → envelope ack. Errors are mapped here and only here; internal
details go to the log, never to the client.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import BaseModel, ValidationError

from server import jsonutil
from server.errors import (
    AppError,
    AuthExpired,
    BadInput,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    error_body,
    ok,
    validation_details,
)
from server.realtime.throttle import TokenBucket

if TYPE_CHECKING:
    import socketio

    from server.realtime.membership import Membership
    from server.realtime.registry import ConnectionRegistry, SocketSession
    from server.services.container import Services

log = logging.getLogger(__name__)


@dataclass
class EventContext:
    """What a handler may use: the caller's session, the services, and room membership."""

    sid: str
    session: SocketSession
    services: Services
    sio: socketio.AsyncServer
    registry: ConnectionRegistry
    membership: Membership | None = None  # rooms: join with resume, replay, leave

    @property
    def user_id(self) -> int:
        return self.session.user_id

    async def join(self, room: str) -> None:
        await self.sio.enter_room(self.sid, room)

    async def leave(self, room: str) -> None:
        await self.sio.leave_room(self.sid, room)


Handler = Callable[[EventContext, Any], Awaitable[Any]]


@dataclass(frozen=True)
class EventSpec:
    name: str
    schema: type[BaseModel]
    handler: Handler
    allow_expired: bool = False  # only for events that renew the session itself


def _payload_size(data: Any) -> int:
    return len(jsonutil.dumps_bytes(data))


def register_events(sio: socketio.AsyncServer, services: Services,
                    registry: ConnectionRegistry, specs: list[EventSpec],
                    membership: Membership | None = None) -> None:
    max_bytes = services.settings.max_event_bytes
    rate, burst = services.settings.socket_event_rate, services.settings.socket_event_burst

    def make(spec: EventSpec) -> Callable[..., Awaitable[dict[str, Any]]]:
        async def on_event(sid: str, data: Any = None, *extra: Any) -> dict[str, Any]:
            # Each event runs in its own task, so these ids stay with this event's log lines.
            structlog.contextvars.bind_contextvars(sid=sid, socket_event=spec.name)
            try:
                session = registry.get(sid)
                if session is None:
                    raise Unauthorized("not authenticated")
                if extra:
                    raise BadInput("send one payload object")
                if _payload_size(data) > max_bytes:
                    raise PayloadTooLarge(f"event payload is over {max_bytes} bytes")
                try:
                    payload = spec.schema.model_validate({} if data is None else data)
                except ValidationError as exc:
                    raise BadInput("invalid event payload", details=validation_details(exc)) from exc
                if not spec.allow_expired and time.time() >= session.expires_at:
                    raise AuthExpired("access token expired: send auth:refresh")
                if session.bucket is None:
                    session.bucket = TokenBucket(rate, burst)
                wait = session.bucket.take()
                if wait:
                    registry.rate_limited += 1
                    raise RateLimited("too many events from this socket", retry_after=wait)
                ctx = EventContext(sid, session, services, sio, registry, membership)
                return ok(await spec.handler(ctx, payload))
            except AppError as err:
                if err.status >= 500:
                    log.exception("server error in %s", spec.name)
                return error_body(err)
            except Exception:
                log.exception("unhandled error in event %s", spec.name)
                return error_body(AppError())

        return on_event

    for spec in specs:
        sio.on(spec.name, make(spec))
