from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('accounts', '0001_initial'), ('ai', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AiModelFamily',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('family', fields.CharField(unique=True, max_length=32)),
                ('type', fields.CharField(max_length=16)),
                ('current', fields.ForeignKeyField('ai.AiModel', source_field='current_id', db_constraint=True, to_field='id', related_name='serving_families', on_delete=OnDelete.RESTRICT)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'ai_model_families', 'app': 'ai', 'pk_attr': 'id', 'table_description': 'The version a family currently serves: moved by publish and by rollback.'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='AiModel',
            options={'table': 'ai_models', 'app': 'ai', 'pk_attr': 'id', 'table_description': 'One published ONNX model file. Rows are immutable once published.'},
        ),
        ops.AddField(
            model_name='AiModel',
            name='published_by',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='RlBuffer',
            name='size_bytes',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='RlBuffer',
            name='upload_id',
            field=fields.CharField(default='', db_index=True, max_length=32),
        ),
        ops.AddIndex(
            model_name='RlBuffer',
            index=Index(fields=['user_id', 'game', 'model_version']),
        ),
    ]
