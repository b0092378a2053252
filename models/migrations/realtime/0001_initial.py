from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='RoomEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('room', fields.CharField(max_length=96)),
                ('seq', fields.BigIntField()),
                ('event', fields.CharField(max_length=64)),
                ('payload', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'room_events', 'app': 'realtime', 'unique_together': (('room', 'seq'),), 'pk_attr': 'id', 'table_description': 'The durable per-room event log: the source of truth for delivery and resume.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RoomSeq',
            fields=[
                ('room', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=96)),
                ('last_seq', fields.BigIntField(default=0)),
            ],
            options={'table': 'room_seq', 'app': 'realtime', 'pk_attr': 'room', 'table_description': 'The last seq handed out per room, bumped in the publishing transaction.'},
            bases=['Model'],
        ),
    ]
