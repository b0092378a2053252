from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('accounts', '0003_settings_sync_columns')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='changed_by_device',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='User',
            name='created_by_device',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='User',
            name='deleted',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='User',
            name='last_modified',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='User',
            name='server_created_at',
            field=fields.BigIntField(default=0),
        ),
    ]
