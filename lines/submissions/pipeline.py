"""The validation pipeline: running a stored submission's validation, its claim,
progress and heartbeat, and what beat needs to re-queue runs that were lost.
Receiving an upload is lines.submissions.intake; approval lines.submissions.approval (its write plan lines.submissions.writer);
the tasks and beat's re-queue lines.submissions.tasks.

Everything here is an ordinary function, tested without Celery. The order of
events is what keeps data safe:

1. intake saves the row and the uploaded bytes and commits;
2. only then (after commit) is the validation task published, and a broker that
   is down costs nothing but a log line: the row stays `received`;
3. `run_validation` claims the row with a conditional update, so a redelivered
   message or a beat re-queue cannot run it twice at once;
4. beat (lines.submissions.tasks.requeue_stale_validations) publishes again what
   is stuck in `received` or `validating` past settings.SUBMISSION_STALE_AFTER
   (`stale_submissions`), and gives up on a run that failed too often (`give_up`).
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.db.models import QuerySet
from django.utils import timezone

from core.gc_pause import gc_paused
from lines.models import Submission, SubmissionFormat, SubmissionStatus
from lines.submissions.documents import (
    count_lines,
    document_digest,
    parse_document,
    read_stored,
    store_parsed,
)
from lines.submissions.protocol import max_lines_of
from lines.submissions.rules.findings import cap_per_rule
from lines.submissions.validation import validate_document

logger = logging.getLogger(__name__)

# After this many claimed runs a submission stops being re-queued: something in
# the document kills the worker, and the depositor gets a report saying so.
MAX_ATTEMPTS = 5
# Progress is written at most this often (seconds) and every so many lines: often
# enough for a progress bar and as a heartbeat, rare enough not to slow the run.
PROGRESS_EVERY_SECONDS = 0.5
PIPELINE_RULE = "PIPELINE"


def _pipeline_finding(message, location=""):
    return {
        "rule": PIPELINE_RULE,
        "severity": "error",
        "location": location,
        "message": message,
        "line": None,
        "donor": None,
    }


def read_error_findings(exc: BaseException) -> list[dict[str, Any]]:
    """Findings for a document the parser could not read, with the place it names when it can."""
    findings = getattr(exc, "findings", None)
    if findings:
        return [dict(f) for f in findings]
    location = getattr(exc, "location", "") or ""
    return [
        {
            "rule": "SCHEMA",
            "severity": "error",
            "location": location,
            "message": f"The document could not be read: {exc}",
            "line": None,
            "donor": None,
        }
    ]


def localise_findings(
    findings: list[dict[str, Any]], locate: Callable[[str], Any] | None, fmt: str
) -> list[dict[str, Any]]:
    """For CSV/XLSX uploads, turn each JSON pointer into the sheet, row and column the
    depositor edits; the pointer is kept alongside for the API."""
    if fmt == SubmissionFormat.JSON or locate is None:
        return findings
    for finding in findings:
        pointer = finding.get("location") or ""
        try:
            place = locate(pointer)
        except Exception:  # noqa: BLE001 — a pointer with no cell keeps its pointer
            place = None
        if place:
            finding["pointer"] = pointer
            finding["location"] = place
    return findings


class _ProgressWriter:
    """on_progress callback for validate_document: writes progress_done at most every
    PROGRESS_EVERY_SECONDS. The write also touches updated_at, the run's heartbeat
    that tells requeue_stale_submissions this run is alive."""

    def __init__(self, submission):
        self.submission = submission
        self.last = time.monotonic()

    def __call__(self, done, total=None):
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        if total is not None and done > total:
            done = total
        self.submission.record_progress(done, total)


class _Heartbeat:
    """While a run holds a submission, touch its updated_at from a side thread every
    third of the stale time-out (at most every minute). Progress writes are a
    heartbeat too, but reading a large workbook or the JSON Schema pass can take
    longer than the time-out without any; a live run must never look dead to
    requeue_stale_submissions. The thread dies with its process, which is the point."""

    def __init__(self, submission):
        self.submission_id, self.attempts = submission.pk, submission.attempts
        self.interval = min(60.0, max(0.5, settings.SUBMISSION_STALE_AFTER.total_seconds() / 3))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"submission-{submission.pk}-heartbeat", daemon=True)

    def _beat(self):
        try:
            while not self._stop.wait(self.interval):
                Submission.objects.filter(
                    pk=self.submission_id,
                    status=SubmissionStatus.VALIDATING,
                    attempts=self.attempts,
                ).update(updated_at=timezone.now())
        except Exception:  # noqa: BLE001 — a missed beat only makes the run look stale sooner
            logger.warning("heartbeat of submission %s stopped", self.submission_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self):
        # Inside an open transaction (a test, a benchmark) no other process can see
        # the row anyway, and a second connection would only wait on its lock.
        if not connection.in_atomic_block:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)


def run_validation(submission_id: int) -> Submission | None:
    """Validate one stored submission and store its report. Safe to call twice:
    a second call returns without doing anything while the first holds the row.
    Returns the submission when this call ran it, else None."""
    submission = (
        Submission.objects.select_related("protocol_version", "institution", "depositor")
        .filter(pk=submission_id)
        .first()
    )
    if submission is None or not submission.claim_for_validation():
        return None

    try:
        with _Heartbeat(submission), gc_paused():
            return _validate_claimed(submission)
    except (OperationalError, InterfaceError, SoftTimeLimitExceeded):
        # Hand the row back so the task's retry (or beat) can claim it at once
        # rather than after the stale time-out; if the database is still away,
        # the stale time-out does it.
        try:
            release_claim(submission.pk, submission.attempts)
        except (OperationalError, InterfaceError):
            logger.warning("could not release submission %s; beat will re-queue it", submission.pk)
        raise


def _validate_claimed(submission):
    try:
        content = read_stored(submission)
        document, locate = parse_document(content, submission.format)
    except Exception as exc:  # noqa: BLE001 — every unreadable document gets a report, never a lost row
        submission.record_findings(read_error_findings(exc), total=0)
        return submission

    store_parsed(submission, document)
    if submission.format != SubmissionFormat.JSON:
        # Intake only counted a spreadsheet's rows; now that it is read, the digest
        # becomes the content's, as for JSON (approval compares them across formats).
        Submission.objects.filter(pk=submission.pk).update(document_sha256=document_digest(document, content))
    total = count_lines(document)
    limit = max_lines_of(submission.protocol_version)
    if total > limit:
        submission.record_findings(
            [
                _pipeline_finding(
                    f"The document has {total:,} lines; one submission may hold at most {limit:,}.",
                    "/lines",
                )
            ],
            total=0,
        )
        return submission
    submission.record_progress(0, total)
    findings = validate_document(
        document,
        protocol=submission.protocol_version,
        institution=submission.institution,
        on_progress=_ProgressWriter(submission),
        user=submission.depositor,
    )
    findings = cap_per_rule(findings, settings.SUBMISSION_MAX_FINDINGS_PER_RULE)
    findings = localise_findings([dict(f) for f in findings], locate, submission.format)
    submission.record_findings(findings, total=total)
    return submission


def release_claim(submission_id: int, attempts: int) -> None:
    """Hand a claimed row back (after a transient error) so the retry can claim it at once."""
    Submission.objects.filter(pk=submission_id, status=SubmissionStatus.VALIDATING, attempts=attempts).update(
        status=SubmissionStatus.RECEIVED, updated_at=timezone.now()
    )


def stale_submissions(now: datetime | None = None) -> QuerySet[Submission]:
    """Submissions whose validation should have finished by now: never picked up
    (`received`, e.g. the broker was down) or whose run went quiet (`validating`,
    e.g. the worker was killed)."""
    now = now or timezone.now()
    before = now - settings.SUBMISSION_STALE_AFTER
    return Submission.objects.filter(
        status__in=[SubmissionStatus.RECEIVED, SubmissionStatus.VALIDATING], updated_at__lt=before
    )


def give_up(submission: Submission) -> None:
    """Close a submission whose validation failed MAX_ATTEMPTS times: invalid, with a
    report saying so (the upload is kept)."""
    now = timezone.now()
    finding = _pipeline_finding(
        f"Validation did not finish after {submission.attempts} attempts. Your upload is kept; "
        "send it again or ask a curator to look at it."
    )
    Submission.objects.filter(
        pk=submission.pk, status__in=[SubmissionStatus.RECEIVED, SubmissionStatus.VALIDATING]
    ).update(
        status=SubmissionStatus.INVALID,
        findings=[finding],
        error_count=1,
        warning_count=0,
        progress_done=0,
        validated_at=now,
        updated_at=now,
    )


def report_rows(submission: Submission) -> Iterator[dict[str, Any]]:
    """The report flattened for CSV: one row per finding, location made readable."""
    for finding in submission.findings:
        location = finding.get("location")
        if isinstance(location, dict):
            location = " ".join(f"{k}={v}" for k, v in location.items() if v not in (None, ""))
        yield {
            "rule": finding.get("rule", ""),
            "severity": finding.get("severity", ""),
            "line": finding.get("line") or "",
            "donor": finding.get("donor") or "",
            "location": location or "",
            "pointer": finding.get(
                "pointer",
                finding.get("location") if isinstance(finding.get("location"), str) else "",
            ),
            "message": finding.get("message", ""),
        }
