from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('accounts', '0001_initial')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Tournament',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('owner', fields.ForeignKeyField('accounts.User', source_field='owner_id', db_constraint=True, to_field='id', related_name='hosted_tournaments', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=80)),
                ('is_public', fields.BooleanField(default=False)),
                ('structure', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('players', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('table_count', fields.IntField()),
                ('status', fields.CharField(default='scheduled', max_length=16)),
                ('clock_started_at', fields.FloatField(null=True)),
                ('clock_paused_at', fields.FloatField(null=True)),
                ('clock_paused_total', fields.FloatField(default=0.0)),
                ('clock_phase', fields.IntField(default=0)),
                ('next_transition_at', fields.FloatField(null=True, db_index=True)),
                ('snapshot_version', fields.BigIntField(default=0)),
                ('state', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'tournaments', 'app': 'tournaments', 'pk_attr': 'id', 'table_description': "A tournament's durable state: structure, clock, and the last accepted snapshot."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TournamentSnapshot',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tournament', fields.ForeignKeyField('tournaments.Tournament', source_field='tournament_id', db_constraint=True, to_field='id', related_name='snapshots', on_delete=OnDelete.CASCADE)),
                ('version', fields.BigIntField()),
                ('public_state', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('private_by_player', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('submitted_by', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'tournament_snapshots', 'app': 'tournaments', 'unique_together': (('tournament', 'version'),), 'pk_attr': 'id', 'table_description': 'Every accepted snapshot, with the private per-player parts kept apart from the public state.'},
            bases=['Model'],
        ),
    ]
