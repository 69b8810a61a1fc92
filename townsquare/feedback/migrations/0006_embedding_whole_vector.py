from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0005_fill_themefacets"),
    ]

    operations = [
        # Nullable, no default: existing rows read their long texts again at the next sweep of feedback.
        migrations.AddField(
            model_name="embedding",
            name="whole_vector",
            field=models.BinaryField(editable=False, null=True),
        ),
    ]
