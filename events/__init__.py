"""Socket.IO event contracts: schemas and thin handlers, one module per domain."""

from __future__ import annotations

from server.realtime.dispatch import EventSpec


def all_events() -> list[EventSpec]:
    from events import auth, chat, console, rooms, system, tournament

    return [*system.EVENTS, *auth.EVENTS, *rooms.EVENTS, *chat.EVENTS, *tournament.EVENTS,
            *console.EVENTS]
