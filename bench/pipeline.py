"""The submission pipeline end to end: intake, the worker's run, approval
(10,000 lines; --quick: 300).

A clean generated document (every line passes; twenty lines per donor, as an
institution has only 999 donor numbers) goes through what a deposit costs the
catalog, each step as the real code runs it, in one transaction that is rolled
back so the configured database is left as it was (the broker is not used: the
worker's function is called in this process):

  intake        receive_submission on the JSON bytes: parse, count, save the row
                and the file (what the depositor waits for before the 202)
  intake xlsx   a workbook with the same lines sheet: intake counts that sheet's rows
                and leaves reading the workbook to the worker
  validation    run_validation: claim, parse, every rule, store the report
  approval      approve_submission: re-check, names, donors, consent, variants,
                lines, QC records and their history, search text, STR index

Figures: seconds, lines per second, and rows written per second by the approval.
"""

import io
import json
import tempfile
import time

from django.db import connection, transaction
from django.test import override_settings
from openpyxl import Workbook

from bench._goals import report
from core.accounts import create_user_with_role, institution_for_code
from lines.models import CellLine, QCRecord, Submission
from lines.submissions.approval import approve_submission
from lines.submissions.formats import document_to_tables
from lines.submissions.intake import receive_submission
from lines.submissions.pipeline import run_validation
from lines.submissions.protocol.example import valid_document


class _Rollback(Exception):
    pass


def _timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def _lines_workbook(document):
    """The lines sheet of the template as a workbook (write-only openpyxl: writing the
    full four-sheet workbook of 10,000 lines would take the benchmark minutes)."""

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("lines")
    for row in document_to_tables(document)["lines"]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(stdout, options):
    n_lines = 300 if options.get("quick") else 10_000
    document = valid_document(n_lines, lines_per_donor=20, seed="bench-pipeline")
    content = json.dumps(document).encode()
    workbook = _lines_workbook(document)
    stdout.write(
        f"pipeline: {n_lines:,} lines, {len(document['donors']):,} donors, "
        f"{len(content) / 1e6:.1f} MB JSON, lines sheet {len(workbook) / 1e6:.1f} MB XLSX"
    )

    figures = {}
    with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
        try:
            with transaction.atomic():
                institution = institution_for_code("BENCH", name="Benchmark institute", country="Nowhere")
                depositor = create_user_with_role("bench-depositor", "depositor", institution=institution)[0]
                curator = create_user_with_role("bench-curator", "curator")[0]
                submission, figures["intake"] = _timed(
                    lambda: receive_submission(user=depositor, content=content, fmt="json")
                )
                _, figures["intake xlsx"] = _timed(
                    lambda: receive_submission(user=depositor, content=workbook, fmt="xlsx")
                )
                _, figures["validation"] = _timed(lambda: run_validation(submission.pk))
                submission.refresh_from_db()
                if submission.status != "valid":
                    stdout.write(f"  the document was {submission.status}: {submission.findings[:3]}")
                    raise _Rollback
                lines, figures["approval"] = _timed(lambda: approve_submission(submission, by=curator))
                rows = (
                    len(lines)
                    + QCRecord.objects.filter(line__submission=submission).count()
                    + len(document["donors"]) * 3  # donor, consent, variant
                )
                assert CellLine.objects.filter(submission=submission).count() == n_lines
                assert Submission.objects.get(pk=submission.pk).status == "approved"
                raise _Rollback
        except _Rollback:
            pass

    if "approval" not in figures:
        return
    stdout.write("                    seconds     lines/s")
    for step in ("intake", "intake xlsx", "validation", "approval"):
        seconds = figures[step]
        stdout.write(f"  {step:<14} {seconds:9.2f} {n_lines / seconds:11,.0f}")
    stdout.write(
        f"  approval wrote {rows:,} rows (+ as many history records): {rows / figures['approval']:,.0f} rows/s"
    )
    quick = n_lines < 10_000
    note = f"{n_lines:,} lines, {connection.vendor}"
    report(stdout.write, "validation", figures["validation"], note=note, quick=quick)
    report(stdout.write, "approval", figures["approval"], note=note, quick=quick)
    report(stdout.write, "approval_rows", rows / figures["approval"], note=note, quick=quick)
