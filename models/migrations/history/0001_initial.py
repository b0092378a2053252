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
            name='HandHistory',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('accounts.User', source_field='user_id', db_constraint=True, to_field='id', related_name='hands', on_delete=OnDelete.CASCADE)),
                ('hand_id', fields.CharField(max_length=64)),
                ('game_type', fields.CharField(max_length=32)),
                ('tournament_id', fields.CharField(null=True, max_length=64)),
                ('record_json', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'hand_history', 'app': 'history', 'unique_together': (('user', 'hand_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MixedGameHistory',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('accounts.User', source_field='user_id', db_constraint=True, to_field='id', related_name='mixed_games', on_delete=OnDelete.CASCADE)),
                ('record_id', fields.CharField(max_length=64)),
                ('tournament_id', fields.CharField(null=True, max_length=64)),
                ('from_game', fields.CharField(null=True, max_length=32)),
                ('to_game', fields.CharField(max_length=32)),
                ('record_json', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'mixed_game_history', 'app': 'history', 'unique_together': (('user', 'record_id'),), 'pk_attr': 'id', 'table_description': 'A mixed-game switch (HORSE, 8-game rotation…) as recorded by a client.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TournamentHistory',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('accounts.User', source_field='user_id', db_constraint=True, to_field='id', related_name='tournament_results', on_delete=OnDelete.CASCADE)),
                ('tournament_id', fields.CharField(max_length=64)),
                ('result_json', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('rank', fields.IntField(null=True)),
                ('chips', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'tournament_history', 'app': 'history', 'unique_together': (('user', 'tournament_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
