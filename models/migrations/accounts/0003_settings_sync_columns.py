from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('accounts', '0002_session_generation_and_successor')]

    initial = False

    operations = [
        ops.AddField(
            model_name='UserSettings',
            name='changed_by_device',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='UserSettings',
            name='created_by_device',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='UserSettings',
            name='deleted',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='UserSettings',
            name='last_modified',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='UserSettings',
            name='server_created_at',
            field=fields.BigIntField(default=0),
        ),
    ]
