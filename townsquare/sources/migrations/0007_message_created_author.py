from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sources", "0006_message_deleted_at"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["created_at", "author", "id"], name="message_created_author_idx"),
        ),
    ]
