"""Connect and disconnect: authenticate the handshake and join the user's room."""

from __future__ import annotations

import logging
from typing import Any

import socketio

from server.errors import AppError, BadInput, Unauthorized
from server.realtime.membership import Membership
from server.realtime.model_notices import announce_model_updates
from server.realtime.registry import ConnectionRegistry, SocketSession
from server.services.container import Services

log = logging.getLogger(__name__)


def user_room(user_id: int) -> str:
    return f"user_{user_id}"


def _resume_seq(auth: dict[str, Any]) -> int | None:
    """`auth.last_seq`: the last seq of the user's room this device has, if it has one."""
    value = auth.get("last_seq")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise socketio.exceptions.ConnectionRefusedError(
            "bad_input", BadInput("last_seq must be a non-negative integer").to_error())
    return value


def install_connection_handlers(sio: socketio.AsyncServer, services: Services,
                                registry: ConnectionRegistry, membership: Membership) -> None:
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            if not isinstance(auth, dict):
                raise Unauthorized("send auth: {token, device_id} with the handshake")
            claims = services.tokens.verify_access(auth.get("token"))
            # A deleted account or a signed-out/revoked device is refused with its own code.
            await services.accounts.verify_session(claims)
        except AppError as err:
            # socket.io-client sees err.message == code and err.data == {code, message}.
            raise socketio.exceptions.ConnectionRefusedError(err.code, err.to_error()) from None
        session = SocketSession(sid, claims.user_id, claims.device_id, claims.expires_at)
        session.generation = claims.generation
        last_seq = _resume_seq(auth)
        request = environ.get("aiohttp.request")
        session.transport = request.transport if request is not None else None
        registry.add(session)
        await sio.emit("session:ready", {
            "user_id": claims.user_id, "device_id": claims.device_id,
            "expires_at": claims.expires_at, "instance": services.settings.instance_id,
        }, to=sid)
        # Resume: the user's room replays what this device missed before anything live.
        try:
            await membership.join(session, user_room(claims.user_id), last_seq)
        except AppError as err:
            registry.remove(sid)
            raise socketio.exceptions.ConnectionRefusedError(err.code, err.to_error()) from None
        await announce_model_updates(sio, services, registry, membership, session, auth)

    async def disconnect(sid: str, *_: Any) -> None:
        session = registry.remove(sid)
        if session is not None:
            await membership.disconnected(session)

    sio.on("connect", connect)
    sio.on("disconnect", disconnect)
