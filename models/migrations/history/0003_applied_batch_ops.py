from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('accounts', '0001_initial'), ('history', '0002_sync_columns')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AppliedBatchOp',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('accounts.User', source_field='user_id', db_constraint=True, to_field='id', related_name='applied_batch_ops', on_delete=OnDelete.CASCADE)),
                ('op', fields.CharField(max_length=32)),
                ('client_id', fields.CharField(max_length=64)),
                ('result', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'applied_batch_ops', 'app': 'history', 'unique_together': (('user', 'op', 'client_id'),), 'pk_attr': 'id', 'table_description': 'A `POST /batch` item that was applied, kept so a resend of it applies nothing again.'},
            bases=['Model'],
        ),
    ]
