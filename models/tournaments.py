from tortoise import fields
from tortoise.models import Model


class Tournament(Model):
    """A tournament's durable state: structure, clock, and the last accepted snapshot."""

    id = fields.CharField(max_length=32, primary_key=True)
    owner = fields.ForeignKeyField("accounts.User", related_name="hosted_tournaments",
                                   on_delete=fields.CASCADE)
    name = fields.CharField(max_length=80)
    is_public = fields.BooleanField(default=False)
    structure = fields.JSONField()
    players = fields.JSONField()  # [{player_id, user_id | null, name}]
    table_count = fields.IntField()
    status = fields.CharField(max_length=16, default="scheduled")
    clock_started_at = fields.FloatField(null=True)
    clock_paused_at = fields.FloatField(null=True)
    clock_paused_total = fields.FloatField(default=0.0)
    clock_phase = fields.IntField(default=0)  # the last timeline phase announced as a room event
    next_transition_at = fields.FloatField(null=True, db_index=True)
    snapshot_version = fields.BigIntField(default=0)
    state = fields.JSONField(null=True)  # the public state of the last accepted snapshot
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "tournaments"


class TournamentSnapshot(Model):
    """Every accepted snapshot, with the private per-player parts kept apart from the public state."""

    id = fields.BigIntField(primary_key=True)
    tournament = fields.ForeignKeyField("tournaments.Tournament", related_name="snapshots",
                                        on_delete=fields.CASCADE)
    version = fields.BigIntField()
    public_state = fields.JSONField()
    private_by_player = fields.JSONField(default=dict)
    submitted_by = fields.BigIntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tournament_snapshots"
        unique_together = (("tournament", "version"),)
