from tortoise import fields
from tortoise.models import Model


class AiModel(Model):
    """One published ONNX model file. Rows are immutable once published."""

    id = fields.BigIntField(primary_key=True)
    version = fields.CharField(max_length=64, unique=True)
    family = fields.CharField(max_length=32, db_index=True)
    type = fields.CharField(max_length=16)  # per_game / multi_head / pro
    file_path = fields.CharField(max_length=256)  # the object key in the model store
    sha256 = fields.CharField(max_length=64)
    size = fields.BigIntField()
    io_signature = fields.JSONField(default=dict)
    published_by = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ai_models"


class AiModelFamily(Model):
    """The version a family currently serves: moved by publish and by rollback."""

    id = fields.BigIntField(primary_key=True)
    family = fields.CharField(max_length=32, unique=True)
    type = fields.CharField(max_length=16)
    current = fields.ForeignKeyField("ai.AiModel", related_name="serving_families",
                                     on_delete=fields.RESTRICT)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "ai_model_families"


class RlBuffer(Model):
    """One experience line of the P2P learning buffer (Spec 21 §6.7)."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("accounts.User", related_name="rl_lines", on_delete=fields.CASCADE)
    game = fields.CharField(max_length=32)
    model_version = fields.CharField(max_length=64)
    data_jsonl = fields.TextField()
    size_bytes = fields.IntField(default=0)
    upload_id = fields.CharField(max_length=32, db_index=True, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "rl_buffer"
        indexes = (("user_id", "game", "model_version"),)
