"""Chat: a channel is a room, and a message is a room event of that room.

So a message is stored and gets its seq in one transaction, reaches every member through the
same delivery as any room event, and a reconnecting client gets missed messages by resume.
Sending is idempotent on the sender's client message id: a resend returns the stored message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from models.realtime import ChatMessage
from server.errors import BadInput
from server.services.event_bus import EventBus
from server.services.rooms import RoomPolicy

CHAT_MESSAGE = "chat:message"


@dataclass(frozen=True)
class SentMessage:
    message: dict[str, Any]
    duplicate: bool


def message_view(row: ChatMessage) -> dict[str, Any]:
    return {"id": row.id, "channel": row.channel, "user_id": row.user_id,
            "client_msg_id": row.client_msg_id, "body": row.body, "seq": row.seq,
            "created_at": _iso(row.created_at)}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class ChatService:
    def __init__(self, bus: EventBus, rooms: RoomPolicy, max_length: int):
        self._bus = bus
        self._rooms = rooms
        self._max_length = max_length

    async def send(self, user_id: int, channel: str, client_msg_id: str, body: str) -> SentMessage:
        """Store and publish a message once per (channel, sender, client_msg_id)."""
        await self._rooms.authorize(user_id, channel)
        text = body.strip()
        if not text:
            raise BadInput("message is empty")
        if len(text) > self._max_length:
            raise BadInput(f"message is longer than {self._max_length} characters")
        existing = await self._find(channel, user_id, client_msg_id)
        if existing is not None:
            return SentMessage(message_view(existing), duplicate=True)
        try:
            async with self._bus.transaction() as tx:
                row = await ChatMessage.create(channel=channel, user_id=user_id,
                                               client_msg_id=client_msg_id, body=text, seq=0,
                                               using_db=tx.db)
                view = message_view(row)
                del view["seq"]  # the event's own seq is the message's seq
                record = await tx.publish(channel, CHAT_MESSAGE, view)
                row.seq = record.seq
                await row.save(update_fields=["seq"], using_db=tx.db)
        except IntegrityError:
            # The same resend racing itself: the other attempt stored it.
            existing = await self._find(channel, user_id, client_msg_id)
            if existing is None:
                raise
            return SentMessage(message_view(existing), duplicate=True)
        return SentMessage(message_view(row), duplicate=False)

    async def history(self, user_id: int, channel: str, before: int | None, limit: int) -> dict[str, Any]:
        """Messages newest first, `limit` per page; `before` is the oldest id the client has."""
        await self._rooms.authorize(user_id, channel)
        query = ChatMessage.filter(channel=channel)
        if before is not None:
            query = query.filter(id__lt=before)
        rows = await query.order_by("-id").limit(limit + 1)
        return {"channel": channel, "messages": [message_view(r) for r in rows[:limit]],
                "has_more": len(rows) > limit}

    async def _find(self, channel: str, user_id: int, client_msg_id: str) -> ChatMessage | None:
        return await ChatMessage.get_or_none(channel=channel, user_id=user_id,
                                             client_msg_id=client_msg_id)
