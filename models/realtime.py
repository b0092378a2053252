from tortoise import fields
from tortoise.models import Model


class RoomSeq(Model):
    """The last seq handed out per room, bumped in the publishing transaction."""

    room = fields.CharField(max_length=96, primary_key=True)
    last_seq = fields.BigIntField(default=0)

    class Meta:
        table = "room_seq"


class RoomEvent(Model):
    """The durable per-room event log: the source of truth for delivery and resume."""

    id = fields.BigIntField(primary_key=True)
    room = fields.CharField(max_length=96)
    seq = fields.BigIntField()
    event = fields.CharField(max_length=64)
    payload = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "room_events"
        unique_together = (("room", "seq"),)


class ChatMessage(Model):
    """A chat line in a channel (a room). Unique per sender and client message id, so a resend is a no-op."""

    id = fields.BigIntField(primary_key=True)
    channel = fields.CharField(max_length=96)
    user_id = fields.BigIntField()
    client_msg_id = fields.CharField(max_length=64)
    body = fields.TextField()
    seq = fields.BigIntField()  # the room event that carried it
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "chat_messages"
        unique_together = (("channel", "user_id", "client_msg_id"),)
        indexes = (("channel", "id"),)
