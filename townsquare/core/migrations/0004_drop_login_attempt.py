# Login lockout moved to django-axes (its own tables); the hand-written log goes.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_login_attempt"),
    ]

    operations = [
        migrations.DeleteModel(name="LoginAttempt"),
    ]
