"""The QC panel verdict now has one home (lines/qc.py), shared by the catalog
status and the deposit-time rules. Three cases changed: a gene-edited Sendai or
episomal line is excused vector clearance (as the deposit rule always did), and a
failed or inconclusive viral screening counts. Stored statuses are recomputed once."""

from django.db import migrations

from lines.qc import summarise_qc_status


def recompute(apps, schema_editor):
    CellLine = apps.get_model("lines", "CellLine")
    changed = []
    lines = CellLine.objects.only("id", "qc_status", "reprogramming_method", "modification_type")
    for line in lines.prefetch_related("qc_records").iterator(chunk_size=2000):
        status = summarise_qc_status(line, line.qc_records.all())
        if status != line.qc_status:
            line.qc_status = status
            changed.append(line)
    CellLine.objects.bulk_update(changed, ["qc_status"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("lines", "0007_submission_approving_in_worker")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
