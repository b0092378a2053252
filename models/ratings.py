from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint
from tortoise.models import Model


class Rating(Model):
    """Server-computed ratings (Spec 21 §6.3). Clients never write these.

    sr/st: skill rating and its uncertainty (tournaments and P2P games),
    mr/mt: mixed-game rating and its uncertainty, gr: the global rating derived from both.
    """

    id = fields.BigIntField(primary_key=True)
    user = fields.OneToOneField("accounts.User", related_name="rating", on_delete=fields.CASCADE)
    sr = fields.FloatField(default=1500.0)
    st = fields.FloatField(default=350.0)
    mr = fields.FloatField(default=1500.0)
    mt = fields.FloatField(default=350.0)
    gr = fields.FloatField(default=1500.0)
    version = fields.IntField(default=1)
    last_update = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "ratings"
        # The initial OneToOneField left user_id without a unique index in the schema.
        constraints = (UniqueConstraint(fields=("user",), name="uniq_ratings_user"),)
        # Leaderboards order and rank by each rating.
        indexes = (("sr", "user_id"), ("mr", "user_id"), ("gr", "user_id"))


class RatingResult(Model):
    """A game result the server holds: the only thing ratings are ever computed from.

    Recorded once per (kind, source_id) by a server-side source (the tournament service, a
    game session the server observed). placings is a list of [user_id, place] pairs, place 1
    the best, equal places for ties. applied_at is set when the ratings were moved by it.
    """

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=16)
    source_id = fields.CharField(max_length=64)
    placings = fields.JSONField()
    recorded_at = fields.DatetimeField(auto_now_add=True)
    applied_at = fields.DatetimeField(null=True)

    class Meta:
        table = "rating_results"
        unique_together = (("kind", "source_id"),)


class RatingChange(Model):
    """One user's rating movement from one held result (the rating history).

    Unique per (user, reason, source_id), so a result moves a rating at most once.
    """

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("accounts.User", related_name="rating_changes",
                                  on_delete=fields.CASCADE)
    result = fields.ForeignKeyField("ratings.RatingResult", related_name="changes",
                                    on_delete=fields.CASCADE)
    reason = fields.CharField(max_length=16)
    source_id = fields.CharField(max_length=64)
    place = fields.IntField()
    field_size = fields.IntField()
    sr_before = fields.FloatField()
    sr_after = fields.FloatField()
    st_before = fields.FloatField()
    st_after = fields.FloatField()
    mr_before = fields.FloatField()
    mr_after = fields.FloatField()
    mt_before = fields.FloatField()
    mt_after = fields.FloatField()
    gr_before = fields.FloatField()
    gr_after = fields.FloatField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "rating_changes"
        unique_together = (("user", "reason", "source_id"),)
