"""The submission pipeline: receiving a document, queueing its validation, running
it, and re-queueing runs that were lost. Approval lives in lines.submissions.writer.

Everything here is an ordinary function, tested without Celery; lines.tasks only
wraps these for the worker. The order of events is what keeps data safe:

1. `receive_submission` saves the row and the uploaded bytes and commits;
2. only then (`transaction.on_commit`) is the validation task published, and a
   broker that is down costs nothing but a log line: the row stays `received`;
3. `run_validation` claims the row with a conditional update, so a redelivered
   message or a beat re-queue cannot run it twice at once;
4. `requeue_stale_submissions` (Celery beat) publishes again what is stuck in
   `received` or `validating` past settings.SUBMISSION_STALE_AFTER.
"""

import hashlib
import io
import json
import logging
import threading
import time
import uuid

import orjson
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.roles import institution_of, is_depositor
from lines.models import ProtocolVersion, Submission, SubmissionFormat, SubmissionStatus

logger = logging.getLogger(__name__)

# The protocol's own ceiling (PROTOCOL.md, schema maxItems); refused at the door
# so a worker never holds a runaway document in memory.
MAX_LINES = 10_000
# After this many claimed runs a submission stops being re-queued: something in
# the document kills the worker, and the depositor gets a report saying so.
MAX_ATTEMPTS = 5
# Progress is written at most this often (seconds) and every so many lines: often
# enough for a progress bar and as a heartbeat, rare enough not to slow the run.
PROGRESS_EVERY_SECONDS = 0.5
PIPELINE_RULE = "PIPELINE"
# 10,000 lines of the CSV template are a few MB; anything far beyond is not a submission.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024

EXTENSIONS = {SubmissionFormat.JSON: "json", SubmissionFormat.CSV: "zip", SubmissionFormat.XLSX: "xlsx"}


class SubmissionRefused(Exception):
    """The upload is not accepted at all (nothing is saved). `status` is the HTTP code."""

    def __init__(self, message, *, status=400, field=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


def protocol_version_for(name):
    """The ProtocolVersion named by an identifier ("prism-line-submission/1") or a number ("1")."""
    name = str(name).strip()
    query = Q(identifier=name)
    if name.isdigit():
        query |= Q(number=int(name))
    version = ProtocolVersion.objects.filter(query).first()
    if version is None:
        known = ", ".join(ProtocolVersion.objects.values_list("identifier", flat=True)) or "none"
        raise SubmissionRefused(
            f"Unknown protocol version {name!r}. Known versions: {known}.", field="protocol"
        )
    return version


def parse_document(content, fmt):
    """(document, locate) for stored or uploaded bytes; raises on a document that cannot be read."""
    from lines.submissions.formats import parse_upload

    return parse_upload(io.BytesIO(content), fmt)


def _peek(content, fmt):
    """(document or None, number of lines) of an upload, cheaply: the request must be
    answered at once, and reading a 10,000-line workbook in full takes the worker
    tens of seconds. JSON is parsed (fast); for a CSV set or a workbook only the
    lines table's rows are counted. Anything unreadable gives (None, 0) and is
    reported by the validation run."""
    try:
        if fmt == SubmissionFormat.JSON:
            document, _ = parse_document(content, fmt)
            return document, _count_lines(document)
        if fmt == SubmissionFormat.CSV:
            return None, _count_csv_lines(content)
        if fmt == SubmissionFormat.XLSX:
            return None, _count_xlsx_lines(content)
    except SubmissionRefused:
        raise
    except Exception as exc:  # noqa: BLE001 — any unreadable upload is reported by the run, not here
        logger.info("submission upload could not be read at intake (%s); saving it for the report", exc)
    return None, 0


def _data_rows(rows):
    """Rows after the header that hold something and are not # comments."""
    count = 0
    for index, row in enumerate(rows):
        first = next((str(v).strip() for v in row if v not in (None, "")), "")
        if index == 0 or not first or first.startswith("#"):
            continue
        count += 1
    return count


def _count_csv_lines(content):
    import csv
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        member = next(
            (i for i in archive.infolist() if i.filename.rsplit("/", 1)[-1].lower() == "lines.csv"), None
        )
        if member is None:
            return 0
        if member.file_size > MAX_UNPACKED_BYTES:
            # Checked before unpacking: a small zip may hold gigabytes.
            raise SubmissionRefused(
                f"lines.csv unpacks to {member.file_size:,} bytes; at most {MAX_UNPACKED_BYTES:,} are accepted.",
                status=413, field="file",
            )
        text = archive.read(member).decode("utf-8-sig", errors="replace")
    delimiter = ";" if text[:4096].count(";") > text[:4096].count(",") else ","
    return _data_rows(csv.reader(io.StringIO(text), delimiter=delimiter))


def _count_xlsx_lines(content):
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        names = {name.strip().lower(): name for name in workbook.sheetnames}
        if "lines" not in names:
            return 0
        sheet = workbook[names["lines"]]
        # The sheet's recorded size answers at once; only a sheet that claims to be
        # over the limit is counted row by row (the size may include blank or comment rows).
        if sheet.max_row is not None and sheet.max_row - 1 <= MAX_LINES:
            return max(sheet.max_row - 1, 0)
        return _data_rows(sheet.iter_rows(min_col=1, max_col=3, values_only=True))
    finally:
        workbook.close()


def _parsed_name(submission):
    return f"{submission.document.name}.parsed.json"


def _store_parsed(submission, document):
    """Keep the document as validated, in JSON: the review page and approval read it
    in a fraction of a second instead of re-reading a workbook."""
    name = _parsed_name(submission)
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(orjson.dumps(document)))


def load_document(submission):
    """The submission's document as a dict: the copy stored by its validation run,
    else the upload read again. Raises (TemplateError …) for an unreadable upload."""
    name = _parsed_name(submission)
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as handle:
            return orjson.loads(handle.read())
    document, _locate = parse_document(_read_stored(submission), submission.format)
    return document


def _count_lines(document):
    lines = document.get("lines") if isinstance(document, dict) else None
    return len(lines) if isinstance(lines, list) else 0


def receive_submission(*, user, content, fmt=SubmissionFormat.JSON, filename="", protocol=None):
    """Save an upload as a `received` submission and queue its validation after commit.

    `content` is the uploaded bytes; `protocol` an optional version name that must
    agree with the document's own `protocol` field. A document that cannot be read
    is still saved: its validation run reports why, so no upload is ever lost.
    Raises SubmissionRefused (nothing saved) for a caller who may not deposit, an
    unknown or conflicting protocol version, or more than MAX_LINES lines."""
    institution = institution_of(user)
    if not is_depositor(user) or institution is None:
        raise SubmissionRefused(
            "Only a depositor with an institution may submit lines.", status=403
        )
    if fmt not in SubmissionFormat.values:
        raise SubmissionRefused(
            f"Unknown format {fmt!r}: use one of {', '.join(SubmissionFormat.values)}.", field="format"
        )
    if not content:
        raise SubmissionRefused("The upload is empty.", field="document")

    document, lines = _peek(content, fmt)
    if lines > MAX_LINES:
        raise SubmissionRefused(
            f"The document has {lines:,} lines; one submission may hold at most {MAX_LINES:,}. "
            "Split it into several submissions.",
            status=413, field="lines",
        )

    named_in_document = document.get("protocol") if isinstance(document, dict) else None
    if (
        protocol and isinstance(named_in_document, str)
        and protocol_version_for(protocol) != protocol_version_for(named_in_document)
    ):
        raise SubmissionRefused(
            f"The request names protocol {protocol!r} but the document says "
            f"{named_in_document!r}; they must agree.",
            field="protocol",
        )
    name = protocol or (named_in_document if isinstance(named_in_document, str) else None)
    if not name and fmt != SubmissionFormat.JSON:
        # The spreadsheet templates are those of the version they were downloaded
        # for, which submission_formats reads them as.
        from lines.submissions.formats import EXAMPLE_DOCUMENT

        name = EXAMPLE_DOCUMENT["protocol"]
    if not name:
        if document is not None:
            raise SubmissionRefused(
                'Name the protocol version: a "protocol" field in the document '
                '(e.g. "prism-line-submission/1") or a protocol parameter.',
                field="protocol",
            )
        # Unreadable and unnamed: keep it under the newest version so the report
        # can say what is wrong with it.
        version = ProtocolVersion.objects.order_by("-number").first()
        if version is None:
            raise SubmissionRefused("No protocol version is published yet.", status=503)
    else:
        version = protocol_version_for(name)

    with transaction.atomic():
        submission = Submission(
            depositor=user,
            institution=institution,
            protocol_version=version,
            format=fmt,
            original_filename=(filename or "")[:255],
            document_sha256=document_digest(document, content),
            progress_total=lines,
        )
        # The stored name is ours, never the depositor's file name.
        submission.document.save(f"{uuid.uuid4().hex}.{EXTENSIONS[fmt]}", ContentFile(content), save=False)
        submission.save()
        submission_id = submission.pk
        transaction.on_commit(lambda: queue_validation(submission_id))
    return submission


def document_digest(document, content):
    """sha256 of the document's content, not its bytes: the same donors and lines sent
    as JSON, re-indented JSON or an XLSX workbook give one digest, which is how
    approval recognises a document that is already in the catalog."""
    if document is None:
        return hashlib.sha256(content).hexdigest()
    # A null and an absent field mean the same (the spreadsheet templates cannot
    # tell them apart), so neither enters the digest.
    canonical = orjson.dumps(_without_nulls(document), option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def queue_validation(submission_id):
    """Publish the validation task; the beat task re-queues whatever is still
    `received` once an unreachable broker is back."""
    from lines.tasks import validate_submission

    return publish_submission_task(validate_submission, submission_id, "validation", "received")


def publish_submission_task(task, submission_id, what, stays):
    """Publish a submission task; a broker that cannot be reached is logged, not raised.

    Called after commit, so the submission is safe either way: it stays `stays`
    and requeue_stale_submissions publishes it again."""
    try:
        # retry=False: the caller's request must not hang on a dead broker.
        options = {"queue": settings.SUBMISSION_QUEUE} if settings.SUBMISSION_QUEUE else {}
        task.apply_async(args=[submission_id], retry=False, **options)
        return True
    except Exception:  # noqa: BLE001 — any publish failure; the row is committed and beat retries
        if task.app.conf.task_always_eager:
            # Eager mode runs the task in this process: a failure here is a bug, not a broker outage.
            logger.exception("%s of submission %s failed in-process", what, submission_id)
        else:
            logger.exception(
                "could not queue %s of submission %s; it stays %s and will be re-queued",
                what, submission_id, stays,
            )
        return False


def _pipeline_finding(message, location=""):
    return {"rule": PIPELINE_RULE, "severity": "error", "location": location, "message": message,
            "line": None, "donor": None}


def _read_error_findings(exc):
    """Findings for a document the parser could not read, with the place it names when it can."""
    findings = getattr(exc, "findings", None)
    if findings:
        return [dict(f) for f in findings]
    location = getattr(exc, "location", "") or ""
    return [{
        "rule": "SCHEMA", "severity": "error", "location": location,
        "message": f"The document could not be read: {exc}",
        "line": None, "donor": None,
    }]


def _localise(findings, locate, fmt):
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
        self._thread = threading.Thread(
            target=self._beat, name=f"submission-{submission.pk}-heartbeat", daemon=True
        )

    def _beat(self):
        try:
            while not self._stop.wait(self.interval):
                Submission.objects.filter(
                    pk=self.submission_id, status=SubmissionStatus.VALIDATING, attempts=self.attempts
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


def run_validation(submission_id):
    """Validate one stored submission and store its report. Safe to call twice:
    a second call returns without doing anything while the first holds the row.
    Returns the submission when this call ran it, else None."""
    from lines.submissions.validation import validate_document

    submission = Submission.objects.select_related("protocol_version", "institution", "depositor").filter(
        pk=submission_id
    ).first()
    if submission is None or not submission.claim_for_validation():
        return None

    try:
        with _Heartbeat(submission):
            return _validate_claimed(submission, validate_document)
    except (OperationalError, InterfaceError, SoftTimeLimitExceeded):
        # Hand the row back so the task's retry (or beat) can claim it at once
        # rather than after the stale time-out; if the database is still away,
        # the stale time-out does it.
        try:
            release_claim(submission.pk, submission.attempts)
        except (OperationalError, InterfaceError):
            logger.warning("could not release submission %s; beat will re-queue it", submission.pk)
        raise


def _validate_claimed(submission, validate_document):
    try:
        content = _read_stored(submission)
        document, locate = parse_document(content, submission.format)
    except Exception as exc:  # noqa: BLE001 — every unreadable document gets a report, never a lost row
        submission.record_findings(_read_error_findings(exc), total=0)
        return submission

    _store_parsed(submission, document)
    if submission.format != SubmissionFormat.JSON:
        # Intake only counted a spreadsheet's rows; now that it is read, the digest
        # becomes the content's, as for JSON (approval compares them across formats).
        Submission.objects.filter(pk=submission.pk).update(document_sha256=document_digest(document, content))
    total = _count_lines(document)
    if total > MAX_LINES:
        submission.record_findings([_pipeline_finding(
            f"The document has {total:,} lines; one submission may hold at most {MAX_LINES:,}.", "/lines"
        )], total=0)
        return submission
    submission.record_progress(0, total)
    findings = validate_document(
        document,
        protocol=submission.protocol_version,
        institution=submission.institution,
        on_progress=_ProgressWriter(submission),
        user=submission.depositor,
    )
    findings = _localise([dict(f) for f in findings], locate, submission.format)
    submission.record_findings(findings, total=total)
    return submission


def release_claim(submission_id, attempts):
    """Hand a claimed row back (after a transient error) so the retry can claim it at once."""
    Submission.objects.filter(
        pk=submission_id, status=SubmissionStatus.VALIDATING, attempts=attempts
    ).update(status=SubmissionStatus.RECEIVED, updated_at=timezone.now())


def _read_stored(submission):
    with submission.document.open("rb") as handle:
        return handle.read()


def stale_submissions(now=None):
    """Submissions whose validation should have finished by now: never picked up
    (`received`, e.g. the broker was down) or whose run went quiet (`validating`,
    e.g. the worker was killed)."""
    now = now or timezone.now()
    before = now - settings.SUBMISSION_STALE_AFTER
    return Submission.objects.filter(
        status__in=[SubmissionStatus.RECEIVED, SubmissionStatus.VALIDATING], updated_at__lt=before
    )


def requeue_stale_submissions(now=None):
    """Publish validation again for stale submissions; give up (with a report) on those
    that have already used MAX_ATTEMPTS runs. Returns the ids queued."""
    queued = []
    for submission in stale_submissions(now).order_by("updated_at")[:500]:
        if submission.attempts >= MAX_ATTEMPTS:
            _give_up(submission)
            continue
        if submission.status == SubmissionStatus.RECEIVED:
            # Touch updated_at so the next beat does not publish it again while this
            # message waits in a busy queue. (Not for `validating`: its claim needs
            # the row to stay stale until the new run takes it.)
            Submission.objects.filter(pk=submission.pk, status=SubmissionStatus.RECEIVED).update(
                updated_at=timezone.now()
            )
        if queue_validation(submission.pk):
            queued.append(submission.pk)
    if queued:
        logger.info("re-queued validation of submissions %s", queued)
    return queued


def _give_up(submission):
    now = timezone.now()
    finding = _pipeline_finding(
        f"Validation did not finish after {submission.attempts} attempts. Your upload is kept; "
        "send it again or ask a curator to look at it."
    )
    Submission.objects.filter(
        pk=submission.pk, status__in=[SubmissionStatus.RECEIVED, SubmissionStatus.VALIDATING]
    ).update(
        status=SubmissionStatus.INVALID, findings=[finding], error_count=1, warning_count=0,
        progress_done=0, validated_at=now, updated_at=now,
    )


def report_rows(submission):
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
            "pointer": finding.get("pointer", finding.get("location") if isinstance(finding.get("location"), str) else ""),
            "message": finding.get("message", ""),
        }


def document_json_bytes(data):
    """A JSON body re-serialised for storage (the API parsed it already)."""
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
