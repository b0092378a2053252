from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('accounts', '0001_initial'), ('ratings', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RatingResult',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('source_id', fields.CharField(max_length=64)),
                ('placings', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('applied_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'rating_results', 'app': 'ratings', 'unique_together': (('kind', 'source_id'),), 'pk_attr': 'id', 'table_description': 'A game result the server holds: the only thing ratings are ever computed from.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RatingChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('accounts.User', source_field='user_id', db_constraint=True, to_field='id', related_name='rating_changes', on_delete=OnDelete.CASCADE)),
                ('result', fields.ForeignKeyField('ratings.RatingResult', source_field='result_id', db_constraint=True, to_field='id', related_name='changes', on_delete=OnDelete.CASCADE)),
                ('reason', fields.CharField(max_length=16)),
                ('source_id', fields.CharField(max_length=64)),
                ('place', fields.IntField()),
                ('field_size', fields.IntField()),
                ('sr_before', fields.FloatField()),
                ('sr_after', fields.FloatField()),
                ('st_before', fields.FloatField()),
                ('st_after', fields.FloatField()),
                ('mr_before', fields.FloatField()),
                ('mr_after', fields.FloatField()),
                ('mt_before', fields.FloatField()),
                ('mt_after', fields.FloatField()),
                ('gr_before', fields.FloatField()),
                ('gr_after', fields.FloatField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'rating_changes', 'app': 'ratings', 'unique_together': (('user', 'reason', 'source_id'),), 'pk_attr': 'id', 'table_description': "One user's rating movement from one held result (the rating history)."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Rating',
            name='mt',
            field=fields.FloatField(default=350.0),
        ),
        ops.AddIndex(
            model_name='Rating',
            index=Index(fields=['sr', 'user_id']),
        ),
        ops.AddIndex(
            model_name='Rating',
            index=Index(fields=['mr', 'user_id']),
        ),
        ops.AddIndex(
            model_name='Rating',
            index=Index(fields=['gr', 'user_id']),
        ),
        ops.AddConstraint(
            model_name='Rating',
            constraint=UniqueConstraint(fields=('user',), name='uniq_ratings_user'),
        ),
    ]
