from __future__ import annotations

from django.db import migrations

# A copy of townsquare.core.roles.Role values at the time of this migration.
ROLES = ["devrel_member", "devrel_lead", "stakeholder_member", "stakeholder_lead", "executive", "admin"]


def create_groups(apps, schema_editor):  # type: ignore[no-untyped-def]
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
