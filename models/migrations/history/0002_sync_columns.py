from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('accounts', '0001_initial'), ('history', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SyncClock',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('value', fields.BigIntField()),
            ],
            options={'table': 'sync_clock', 'app': 'history', 'pk_attr': 'id', 'table_description': 'The one global sync clock row (id 1).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='HandHistory',
            name='changed_by_device',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='HandHistory',
            name='created_by_device',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='HandHistory',
            name='deleted',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='HandHistory',
            name='last_modified',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='HandHistory',
            name='server_created_at',
            field=fields.BigIntField(default=0),
        ),
        ops.AddIndex(
            model_name='HandHistory',
            index=Index(fields=['user_id', 'last_modified']),
        ),
        ops.AddField(
            model_name='MixedGameHistory',
            name='changed_by_device',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='MixedGameHistory',
            name='created_by_device',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='MixedGameHistory',
            name='deleted',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='MixedGameHistory',
            name='last_modified',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='MixedGameHistory',
            name='server_created_at',
            field=fields.BigIntField(default=0),
        ),
        ops.AddIndex(
            model_name='MixedGameHistory',
            index=Index(fields=['user_id', 'last_modified']),
        ),
        ops.AddField(
            model_name='TournamentHistory',
            name='changed_by_device',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='TournamentHistory',
            name='created_by_device',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='TournamentHistory',
            name='deleted',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='TournamentHistory',
            name='last_modified',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='TournamentHistory',
            name='server_created_at',
            field=fields.BigIntField(default=0),
        ),
        ops.AddIndex(
            model_name='TournamentHistory',
            index=Index(fields=['user_id', 'last_modified']),
        ),
    ]
