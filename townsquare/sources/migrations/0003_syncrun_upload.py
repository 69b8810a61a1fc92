from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sources', '0002_run_progress'),
    ]

    operations = [
        migrations.AddField(
            model_name='syncrun',
            name='upload',
            field=models.CharField(blank=True, help_text='The uploaded archive (under DATA_DIR/uploads) this run reads; deleted once read whole.', max_length=1000),
        ),
    ]
