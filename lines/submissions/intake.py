"""Receiving a submission: who may deposit, which protocol version the document
follows, size and line-count limits (the version's own max_lines), and saving the
upload as a `received` submission whose validation is queued after commit.

Nothing here reads a document in full: a request must be answered at once, and
a 10,000-line workbook takes the worker tens of seconds to read.
"""

import csv
import io
import logging
import uuid
import zipfile
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from openpyxl import load_workbook

from core.double_submits import earlier, remember
from core.encodings import EncodingError, decode_text
from core.roles import institution_of, is_depositor
from lines.models import ProtocolVersion, Submission, SubmissionFormat
from lines.submissions.documents import count_lines, document_digest, parse_document
from lines.submissions.formats.columns import SHEETS, V2_PROTOCOL, V3_PROTOCOL
from lines.submissions.formats.limits import LimitExceeded, check_archive, check_sheet_rows, count_csv_rows
from lines.submissions.protocol import max_lines_of
from lines.submissions.protocol.example import EXAMPLE_DOCUMENT
from lines.submissions.publish import publish_after_commit
from lines.submissions.tasks import validate_submission

logger = logging.getLogger(__name__)

SUBMISSION_KIND = "lines.submission"
EXTENSIONS: dict[str, str] = {
    SubmissionFormat.JSON: "json",
    SubmissionFormat.CSV: "zip",
    SubmissionFormat.XLSX: "xlsx",
}


class SubmissionRefused(Exception):
    """The upload is not accepted at all (nothing is saved). `status` is the HTTP code."""

    def __init__(self, message: str, *, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


def protocol_version_for(name: Any) -> ProtocolVersion:
    """The ProtocolVersion named by an identifier ("prism-line-submission/1") or a number ("1")."""
    name = str(name).strip()
    query = Q(identifier=name)
    if name.isdigit():
        query |= Q(number=int(name))
    version = ProtocolVersion.objects.filter(query).first()
    if version is None:
        known = ", ".join(ProtocolVersion.objects.values_list("identifier", flat=True)) or "none"
        raise SubmissionRefused(f"Unknown protocol version {name!r}. Known versions: {known}.", field="protocol")
    return version


def _unreadable(exc):
    logger.info("submission upload could not be read at intake (%s); saving it for the report", exc)


def _peek_json(content, fmt):
    """The document of a JSON upload (parsed: fast), else None. Anything unreadable
    gives None and is reported by the validation run."""
    if fmt != SubmissionFormat.JSON:
        return None
    try:
        document, _ = parse_document(content, fmt)
    except Exception as exc:  # noqa: BLE001 — any unreadable upload is reported by the run, not here
        _unreadable(exc)
        return None
    return document


def _count_upload_lines(content, fmt, document, limit):
    """Number of lines of an upload, cheaply: for a CSV set or a workbook only the
    lines table's rows are counted. Anything unreadable counts 0 (the run reports it).
    Raises SubmissionRefused (413) for a zip member or sheet over the size or row
    limits (lines.submissions.formats.limits), counted on the raw bytes."""
    try:
        if fmt == SubmissionFormat.JSON:
            return count_lines(document)
        if fmt == SubmissionFormat.CSV:
            return _count_csv_lines(content)
        if fmt == SubmissionFormat.XLSX:
            return _count_xlsx_lines(content, limit)
    except LimitExceeded as exc:
        text = "; ".join(f"{f['location'] or 'the upload'}: {f['message']}" for f in exc.findings)
        raise SubmissionRefused(
            f"{text[:1].upper()}{text[1:]}.",
            status=413,
            field="file",
        ) from None
    except SubmissionRefused:
        raise
    except Exception as exc:  # noqa: BLE001 — any unreadable upload is reported by the run, not here
        _unreadable(exc)
    return 0


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
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        check_archive(archive)
        lines_member = None
        for member in archive.infolist():
            base = member.filename.rsplit("/", 1)[-1].lower()
            if base.endswith(".csv") and base[:-4] in SHEETS:
                # Checked before unpacking: a small zip may hold gigabytes.
                count_csv_rows(archive, member, base[:-4])
                if base == "lines.csv":
                    lines_member = member
        if lines_member is None:
            return 0
        try:
            text = decode_text(archive.read(lines_member), "lines.csv")
        except EncodingError:
            return 0  # the run reports the encoding

    delimiter = ";" if text[:4096].count(";") > text[:4096].count(",") else ","
    return _data_rows(csv.reader(io.StringIO(text), delimiter=delimiter))


def _tables_protocol(content, fmt):
    """The protocol a CSV set or workbook follows by what it holds: data rows in its
    vials member or sheet are protocol 3's, in its lots member or sheet protocol 2's,
    else the template's (the sizes are checked by the line count that follows; an
    unreadable upload gets the template's and its validation run reports why)."""
    try:
        if _has_rows(content, fmt, "vials"):
            return V3_PROTOCOL
        if _has_rows(content, fmt, "lots"):
            return V2_PROTOCOL
    except (zipfile.BadZipFile, EncodingError, LimitExceeded, OSError, KeyError, ValueError):
        pass
    return EXAMPLE_DOCUMENT["protocol"]


def _has_rows(content, fmt, sheet):
    """Whether the CSV set's `sheet`.csv member or the workbook's `sheet` sheet has data rows."""
    if fmt == SubmissionFormat.CSV:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            check_archive(archive)
            for member in archive.infolist():
                if member.filename.rsplit("/", 1)[-1].lower() == f"{sheet}.csv":
                    count_csv_rows(archive, member, sheet)
                    text = decode_text(archive.read(member), f"{sheet}.csv")
                    return _data_rows(csv.reader(io.StringIO(text))) > 0
        return False
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        check_archive(archive)
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        names = {name.strip().lower(): name for name in workbook.sheetnames}
        if sheet not in names:
            return False
        worksheet = workbook[names[sheet]]
        worksheet.reset_dimensions()
        return _data_rows(worksheet.iter_rows(min_col=1, max_col=2, values_only=True)) > 0
    finally:
        workbook.close()


def _count_xlsx_lines(content, limit):
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        check_archive(archive)
        # The rows that are there, never the sheet's declared <dimension> (often
        # stale), counted on the raw XML before openpyxl opens anything.
        rows = check_sheet_rows(archive)
    if "lines" not in rows:
        return 0
    # Only a sheet with more rows than the limit is read cell by cell (its rows
    # may include blank or comment rows).
    if rows["lines"] - 1 <= limit:
        return max(rows["lines"] - 1, 0)
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        names = {name.strip().lower(): name for name in workbook.sheetnames}
        sheet = workbook[names["lines"]]
        sheet.reset_dimensions()
        return _data_rows(sheet.iter_rows(min_col=1, max_col=3, values_only=True))
    finally:
        workbook.close()


def _version_of(document, fmt, protocol, content=None):
    """The protocol version the upload follows: the request's, the document's (they
    must agree), the template's for a spreadsheet, else the newest for an unreadable
    upload (so its report can say what is wrong with it)."""
    named_in_document = document.get("protocol") if isinstance(document, dict) else None
    if (
        protocol
        and isinstance(named_in_document, str)
        and protocol_version_for(protocol) != protocol_version_for(named_in_document)
    ):
        raise SubmissionRefused(
            f"The request names protocol {protocol!r} but the document says {named_in_document!r}; they must agree.",
            field="protocol",
        )
    name = protocol or (named_in_document if isinstance(named_in_document, str) else None)
    if not name and fmt != SubmissionFormat.JSON:
        # The spreadsheet templates are those of the version they were downloaded
        # for, which submission_formats reads them as; one with lot rows is protocol 2's,
        # one with vial rows protocol 3's.
        name = _tables_protocol(content, fmt) if content is not None else EXAMPLE_DOCUMENT["protocol"]
    if name:
        return protocol_version_for(name)
    if document is not None:
        raise SubmissionRefused(
            'Name the protocol version: a "protocol" field in the document '
            '(e.g. "prism-line-submission/1") or a protocol parameter.',
            field="protocol",
        )
    version = ProtocolVersion.objects.order_by("-number").first()
    if version is None:
        raise SubmissionRefused("No protocol version is published yet.", status=503)
    return version


def receive_submission(
    *,
    user: Any,
    content: bytes,
    fmt: str = SubmissionFormat.JSON,
    filename: str = "",
    protocol: str | None = None,
    idempotency_key: str = "",
) -> Submission:
    """Save an upload as a `received` submission and queue its validation after commit.

    `content` is the uploaded bytes; `protocol` an optional version name that must
    agree with the document's own `protocol` field. A document that cannot be read
    is still saved: its validation run reports why, so no upload is ever lost.
    Raises SubmissionRefused (nothing saved) for a caller who may not deposit, an
    unknown or conflicting protocol version, or more lines than the version's max_lines.
    An `idempotency_key` already used by this depositor gives back the submission it made."""
    institution = institution_of(user)
    if not is_depositor(user) or institution is None:
        raise SubmissionRefused("Only a depositor with an institution may submit lines.", status=403)
    if fmt not in SubmissionFormat.values:
        raise SubmissionRefused(
            f"Unknown format {fmt!r}: use one of {', '.join(SubmissionFormat.values)}.",
            field="format",
        )
    if not content:
        raise SubmissionRefused("The upload is empty.", field="document")

    document = _peek_json(content, fmt)
    version = _version_of(document, fmt, protocol, content)
    limit = max_lines_of(version)
    lines = _count_upload_lines(content, fmt, document, limit)
    if lines > limit:
        raise SubmissionRefused(
            f"The document has {lines:,} lines; one submission may hold at most {limit:,}. "
            "Split it into several submissions.",
            status=413,
            field="lines",
        )

    digest = document_digest(document, content)
    with transaction.atomic():
        # A double-posted upload gives back the submission its key made (core.double_submits).
        if (made := earlier(user, SUBMISSION_KIND, idempotency_key)) is not None:
            return Submission.objects.get(pk=made)
        submission = Submission(
            depositor=user,
            institution=institution,
            protocol_version=version,
            format=fmt,
            original_filename=(filename or "")[:255],
            document_sha256=digest,
            progress_total=lines,
        )
        # The stored name is ours, never the depositor's file name.
        submission.document.save(f"{uuid.uuid4().hex}.{EXTENSIONS[fmt]}", ContentFile(content), save=False)
        submission.save()
        remember(user, SUBMISSION_KIND, idempotency_key, submission.pk)
        publish_after_commit(validate_submission, submission.pk, what="validation", stays="received")
    return submission
