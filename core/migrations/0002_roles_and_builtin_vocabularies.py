from django.db import migrations

from core.roles import ROLES
from core.vocabulary import load_builtin


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    load_builtin(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("prism", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
