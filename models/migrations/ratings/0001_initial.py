from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True
    dependencies = [('accounts', '0001_initial')]

    operations = [
        ops.CreateModel(
            name='Rating',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('accounts.User', source_field='user_id', db_constraint=True, to_field='id', related_name='rating', on_delete=OnDelete.CASCADE)),
                ('sr', fields.FloatField(default=1500.0)),
                ('st', fields.FloatField(default=350.0)),
                ('mr', fields.FloatField(default=1500.0)),
                ('gr', fields.FloatField(default=1500.0)),
                ('version', fields.IntField(default=1)),
                ('last_update', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'ratings', 'app': 'ratings', 'pk_attr': 'id', 'table_description': 'Server-computed ratings (Spec 21 §6.3). Clients never write these.'},
            bases=['Model'],
        ),
    ]
