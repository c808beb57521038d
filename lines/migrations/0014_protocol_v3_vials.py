"""Protocol version 3 also lets a lot list its vials (rule LOT-2): the stored schema
follows the file (a database migrated before this had version 3 without vials)."""

from django.db import migrations

from lines.submissions.protocol import schema_for


def forwards(apps, schema_editor):
    apps.get_model("lines", "ProtocolVersion").objects.filter(number=3).update(schema=schema_for(3))


class Migration(migrations.Migration):
    dependencies = [("lines", "0013_protocol_v3")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
