from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('realtime', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChatMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel', fields.CharField(max_length=96)),
                ('user_id', fields.BigIntField()),
                ('client_msg_id', fields.CharField(max_length=64)),
                ('body', fields.TextField(unique=False)),
                ('seq', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'chat_messages', 'app': 'realtime', 'unique_together': (('channel', 'user_id', 'client_msg_id'),), 'indexes': [Index(fields=['channel', 'id'])], 'pk_attr': 'id', 'table_description': 'A chat line in a channel (a room). Unique per sender and client message id, so a resend is a no-op.'},
            bases=['Model'],
        ),
    ]
