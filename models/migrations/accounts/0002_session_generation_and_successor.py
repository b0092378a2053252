from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('accounts', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Device',
            name='session_generation',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='RefreshToken',
            name='successor_id',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='RefreshToken',
            name='successor_sealed',
            field=fields.TextField(null=True, unique=False),
        ),
    ]
