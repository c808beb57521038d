"""Protocol version 3 (issue 15): a donor's clinical course. Versions 1 and 2 stay as they were."""

import datetime

from django.db import migrations

from lines.submissions.protocol import V3_IDENTIFIER, V3_SETTINGS, schema_for


def forwards(apps, schema_editor):
    apps.get_model("lines", "ProtocolVersion").objects.update_or_create(
        number=3,
        defaults={
            "identifier": V3_IDENTIFIER,
            "schema": schema_for(3),
            "settings": V3_SETTINGS,
            "published_on": datetime.date(2026, 12, 2),
            "notes": "Adds a donor's `course`: visits (months from onset or a date; the 12 ALSFRS-R items; FVC, "
            "weight, medication), milestones, diagnostic certainty, cognitive status and HPO features; rules "
            "COURSE-1 to COURSE-4; a lot may list its vials (rule LOT-2). Stages and rates are derived, never typed. "
            "Versions 1 and 2 are still accepted.",
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("lines", "ProtocolVersion").objects.filter(number=3).delete()


class Migration(migrations.Migration):
    dependencies = [("lines", "0012_protocol_v2")]

    operations = [migrations.RunPython(forwards, backwards)]
