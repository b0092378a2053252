from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    initial = True
    dependencies = [('accounts', '0001_initial')]

    operations = [
        ops.CreateModel(
            name='AiModel',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.CharField(unique=True, max_length=64)),
                ('family', fields.CharField(db_index=True, max_length=32)),
                ('type', fields.CharField(max_length=16)),
                ('file_path', fields.CharField(max_length=256)),
                ('sha256', fields.CharField(max_length=64)),
                ('size', fields.BigIntField()),
                ('io_signature', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ai_models', 'app': 'ai', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RlBuffer',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('accounts.User', source_field='user_id', db_constraint=True, to_field='id', related_name='rl_lines', on_delete=OnDelete.CASCADE)),
                ('game', fields.CharField(max_length=32)),
                ('model_version', fields.CharField(max_length=64)),
                ('data_jsonl', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'rl_buffer', 'app': 'ai', 'pk_attr': 'id', 'table_description': 'One experience line of the P2P learning buffer (Spec 21 §6.7).'},
            bases=['Model'],
        ),
    ]
