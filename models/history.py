from tortoise import fields
from tortoise.models import Model


class SyncedRow(Model):
    """Columns every row a client keeps offline carries for WatermelonDB-style sync.

    `last_modified` and `server_created_at` are values of the global sync clock
    (see SyncClock), never wall-clock times. A delete keeps the row as a tombstone
    (`deleted`) so devices that still hold it learn about it on their next pull.
    `changed_by_device` names the device whose push made the last change: its own
    pulls skip that change (nothing is echoed back) and its re-push after a lost
    response is not a conflict. `created_by_device` lets a pull send a row that device
    created as `updated`, never as `created`, because it already holds it.
    Rows written through REST or the batch queue carry no device, so every device pulls them.
    """

    last_modified = fields.BigIntField(default=0)
    server_created_at = fields.BigIntField(default=0)
    deleted = fields.BooleanField(default=False)
    created_by_device = fields.CharField(max_length=64, default="")
    changed_by_device = fields.CharField(max_length=64, default="")

    class Meta:
        abstract = True


class HandHistory(SyncedRow):
    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("accounts.User", related_name="hands", on_delete=fields.CASCADE)
    hand_id = fields.CharField(max_length=64)
    game_type = fields.CharField(max_length=32)
    tournament_id = fields.CharField(max_length=64, null=True)
    record_json = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "hand_history"
        unique_together = (("user", "hand_id"),)
        indexes = (("user_id", "last_modified"),)


class TournamentHistory(SyncedRow):
    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("accounts.User", related_name="tournament_results",
                                  on_delete=fields.CASCADE)
    tournament_id = fields.CharField(max_length=64)
    result_json = fields.JSONField()
    rank = fields.IntField(null=True)
    chips = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tournament_history"
        unique_together = (("user", "tournament_id"),)
        indexes = (("user_id", "last_modified"),)


class MixedGameHistory(SyncedRow):
    """A mixed-game switch (HORSE, 8-game rotation…) as recorded by a client."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("accounts.User", related_name="mixed_games",
                                  on_delete=fields.CASCADE)
    record_id = fields.CharField(max_length=64)
    tournament_id = fields.CharField(max_length=64, null=True)
    from_game = fields.CharField(max_length=32, null=True)
    to_game = fields.CharField(max_length=32)
    record_json = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "mixed_game_history"
        unique_together = (("user", "record_id"),)
        indexes = (("user_id", "last_modified"),)


class SyncClock(Model):
    """The one global sync clock row (id 1).

    Every committed change takes the next tick: max(previous + 1, wall-clock ms), so it is
    never 0, unique, and keeps rising when the wall clock steps back. The row lock a tick
    takes is held until its transaction commits, so ticks become visible in order.
    """

    id = fields.IntField(primary_key=True)
    value = fields.BigIntField()

    class Meta:
        table = "sync_clock"


class AppliedBatchOp(Model):
    """A `POST /batch` item that was applied, kept so a resend of it applies nothing again.

    Written in the same transaction as the change it records, and unique per user, op and
    client id, so two concurrent sends of one item apply it once. `result` is what the first
    send answered, and every resend answers it again.
    """

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("accounts.User", related_name="applied_batch_ops",
                                  on_delete=fields.CASCADE)
    op = fields.CharField(max_length=32)
    client_id = fields.CharField(max_length=64)
    result = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "applied_batch_ops"
        unique_together = (("user", "op", "client_id"),)
