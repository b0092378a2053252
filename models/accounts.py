from tortoise import fields
from tortoise.models import Model

from models.history import SyncedRow


# Also the WatermelonDB `profile` table (its record id is the user id). Every profile change
# takes a sync clock tick (`last_modified`), so devices pull it. `deleted` stays false: a
# profile is never deleted through sync.
class User(SyncedRow):
    id = fields.BigIntField(primary_key=True)
    login = fields.CharField(max_length=64, unique=True)
    password_hash = fields.CharField(max_length=128)
    nickname = fields.CharField(max_length=32)
    country = fields.CharField(max_length=2, null=True)
    avatar = fields.CharField(max_length=256, null=True)
    is_admin = fields.BooleanField(default=False)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "users"


# One row per user, also the WatermelonDB `settings` table (its record id is the user id).
# Every change takes a sync clock tick (`last_modified`), so devices pull it.
class UserSettings(SyncedRow):
    id = fields.BigIntField(primary_key=True)
    user = fields.OneToOneField("accounts.User", related_name="settings", on_delete=fields.CASCADE)
    se_on = fields.BooleanField(default=True)
    bgm_on = fields.BooleanField(default=True)
    theme = fields.CharField(max_length=16, default="classic")
    card_skin = fields.CharField(max_length=32, default="standard")
    version = fields.IntField(default=1)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "user_settings"


class Device(Model):
    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("accounts.User", related_name="devices", on_delete=fields.CASCADE)
    device_id = fields.CharField(max_length=64)
    name = fields.CharField(max_length=64, default="")
    platform = fields.CharField(max_length=16, default="pwa")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(auto_now=True)
    revoked_at = fields.DatetimeField(null=True)
    # Bumped by logout and revoke: access tokens carry it, so older ones stop working at once.
    session_generation = fields.IntField(default=0)

    class Meta:
        table = "devices"
        unique_together = (("user", "device_id"),)


class RefreshToken(Model):
    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("accounts.User", related_name="refresh_tokens",
                                  on_delete=fields.CASCADE)
    device = fields.ForeignKeyField("accounts.Device", related_name="refresh_tokens",
                                    on_delete=fields.CASCADE)
    family_id = fields.UUIDField(db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    issued_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    # The rotation grace window: the pair this token was exchanged for, sealed with a key
    # derived from this token's own secret (never stored), kept only until the window ends.
    successor_id = fields.BigIntField(null=True)
    successor_sealed = fields.TextField(null=True)

    class Meta:
        table = "refresh_tokens"
