"""The connect step for model delivery (Spec 21 §7.1).

A client declares the models it holds with `auth.models: {family: version}`. Its socket joins
each family's room (`models_<family>`) through the room membership, so publishes and rollbacks
reach it on whichever instance it is connected to, and right away receives `model:update` for
every family whose served version differs from the one it holds.
"""

from __future__ import annotations

from typing import Any

import socketio

from server.errors import AppError
from server.realtime.membership import Membership
from server.realtime.registry import ConnectionRegistry, SocketSession
from server.services.ai_models import MODEL_UPDATE_EVENT, models_room, parse_declared_models
from server.services.container import Services


async def announce_model_updates(sio: socketio.AsyncServer, services: Services,
                                 registry: ConnectionRegistry, membership: Membership,
                                 session: SocketSession, auth: dict[str, Any]) -> None:
    try:
        declared = parse_declared_models(auth.get("models"))
    except AppError as err:
        registry.remove(session.sid)
        await membership.disconnected(session)
        raise socketio.exceptions.ConnectionRefusedError(err.code, err.to_error()) from None
    for family in declared:
        await membership.join(session, models_room(family), None)
    for notice in await services.ai_models.updates_for(declared):
        await sio.emit(MODEL_UPDATE_EVENT, notice, to=session.sid)
