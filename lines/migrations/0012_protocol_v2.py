"""Protocol version 2 (issue 13): lines may declare lots, QC records may name their lot.

Version 1 stays as it was: documents naming it are still accepted and judged by it."""

import datetime

from django.db import migrations

from lines.submissions.protocol import V2_IDENTIFIER, V2_SETTINGS, schema_for


def forwards(apps, schema_editor):
    ProtocolVersion = apps.get_model("lines", "ProtocolVersion")
    ProtocolVersion.objects.update_or_create(
        number=2,
        defaults={
            "identifier": V2_IDENTIFIER,
            "schema": schema_for(2),
            "settings": V2_SETTINGS,
            "published_on": datetime.date(2026, 12, 2),
            "notes": "Adds lots: a line's `lots` (code, type, accession, passage, frozen_on, culture, cryo-medium, "
            "vials made, freezing, thawing) and a QC record's `lot`; rule LOT-1. Version 1 documents are still accepted.",
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("lines", "ProtocolVersion").objects.filter(number=2).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("lines", "0011_stock"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
