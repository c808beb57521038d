"""Protocol version 1: its JSON Schema (lines/protocol/v1.schema.json) and thresholds.

Version 1 is frozen once published; a change to a rule or threshold is a new
version with its own migration, so submissions keep being judged by the version
they named.
"""

import datetime

from django.db import migrations

from lines.submissions.protocol import V1_IDENTIFIER, V1_SETTINGS, schema_for


def forwards(apps, schema_editor):
    ProtocolVersion = apps.get_model("lines", "ProtocolVersion")
    ProtocolVersion.objects.update_or_create(
        number=1,
        defaults={
            "identifier": V1_IDENTIFIER,
            "schema": schema_for(1),
            "settings": V1_SETTINGS,
            "published_on": datetime.date(2026, 11, 25),
            "notes": "First version: JSON Schema plus rules REF, NAME, DONOR, VAR, CONSENT, LINE, QC, STR.",
        },
    )


class Migration(migrations.Migration):

    dependencies = [
        ("lines", "0002_submission_document_sha256"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
