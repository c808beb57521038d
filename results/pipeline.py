"""Validating a stored deposit, writing its measurements and fitting its dose-responses.

The order is a submission's (lines.submissions.pipeline), with its pieces: the
upload was saved and committed before the task was published; `run_validation`
claims the row with a conditional update (a redelivered message cannot run it
twice at once); the document is read by the submission readers (JSON through
lines.submissions.documents, a table through results.tables), findings are
located as a submission's (`localise_findings`: a table's row and column, the
JSON pointer kept); a valid deposit's measurements, lines and fits are written
in one transaction, and the row becomes `pending_review` for a curator.
"""

import logging
import time
from collections import defaultdict
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from lines.models import CellLine
from lines.submissions.documents import parse_document
from lines.submissions.pipeline import localise_findings, read_error_findings
from lines.submissions.rules.findings import as_date, as_dict, as_text
from results.actions import record_returned_data
from results.assays import readout_of
from results.fitting import fit_four_pl, to_um
from results.models import (
    Assay,
    Dataset,
    DatasetLine,
    DatasetStatus,
    DepositFormat,
    DoseResponseFit,
    FitStatus,
    Measurement,
)
from results.tables import table_to_document
from results.validation import validate_deposit

BATCH = 5000
# After this many claimed runs a deposit stops being re-queued (something in it kills the worker).
MAX_ATTEMPTS = 5
logger = logging.getLogger(__name__)


def read_deposit(dataset: Dataset) -> tuple[Any, Any]:
    """(document, locate) of a stored deposit; raises (TemplateError …) when it cannot be read."""
    with dataset.document.open("rb") as handle:
        content = handle.read()
    if dataset.format == DepositFormat.JSON:
        return parse_document(content, "json")
    return table_to_document(content, dataset.format, dataset.assay, dataset.metadata)


def run_validation(dataset_id: int) -> Dataset | None:
    """Validate one stored deposit; write and fit it when valid. Safe to call twice."""
    dataset = Dataset.objects.select_related("depositor").filter(pk=dataset_id).first()
    if dataset is None or not dataset.claim_for_validation():
        return None
    started = time.perf_counter()
    try:
        document, locate = read_deposit(dataset)
    except Exception as exc:  # noqa: BLE001 — every unreadable deposit gets a report, never a lost row
        _finish(dataset, read_error_findings(exc), started)
        return dataset
    findings = validate_deposit(document, dataset.assay, dataset.depositor)
    findings = localise_findings([dict(f) for f in findings], locate, dataset.format)
    if any(f["severity"] == "error" for f in findings):
        _finish(dataset, findings, started)
        return dataset
    try:
        with transaction.atomic():
            locked = Dataset.objects.select_for_update().filter(
                pk=dataset.pk, status=DatasetStatus.VALIDATING, attempts=dataset.attempts
            )
            if locked.first() is None:
                return None  # taken from this run meanwhile (a stale re-queue)
            write_dataset(dataset, document)
            _finish(dataset, findings, started, status=DatasetStatus.PENDING_REVIEW)
            transaction.on_commit(lambda: record_returned_data(dataset.pk))
    except (OperationalError, InterfaceError):
        raise  # transient: the task retries, or beat re-queues the row
    except Exception as exc:  # noqa: BLE001 — a deposit that cannot be written gets a report, never a stuck row
        logger.exception("dataset %s could not be written", dataset.pk)
        dataset.refresh_from_db()
        finding = {
            "rule": "PIPELINE",
            "severity": "error",
            "location": "",
            "message": f"The dataset passed its checks but could not be written ({type(exc).__name__}); "
            "a curator has been told. Your upload is kept.",
            "line": None,
            "donor": None,
        }
        _finish(dataset, [*findings, finding], started)
    dataset.refresh_from_db()
    return dataset


def _printable(value):
    """A report's text as PostgreSQL can store it: a NUL quoted from the upload is shown as \\0."""
    if isinstance(value, str):
        return value.replace("\x00", "\\0")
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def _finish(dataset, findings, started, status=DatasetStatus.INVALID):
    findings = _printable(findings)
    now = timezone.now()
    Dataset.objects.filter(pk=dataset.pk, status=DatasetStatus.VALIDATING, attempts=dataset.attempts).update(
        status=status,
        findings=findings,
        error_count=sum(1 for f in findings if f.get("severity") == "error"),
        warning_count=sum(1 for f in findings if f.get("severity") == "warning"),
        validated_at=now,
        updated_at=now,
        fitted_seconds=time.perf_counter() - started,
    )
    dataset.refresh_from_db()


def write_dataset(dataset: Dataset, document: dict[str, Any]) -> None:
    """The validated document's metadata, lines, measurements and fits on the row (replacing earlier ones)."""
    protocol = as_dict(document.get("protocol"))
    dataset.title = as_text(document.get("title")) or dataset.title
    dataset.description = as_text(document.get("description")) or ""
    dataset.protocol_name = as_text(protocol.get("name")) or ""
    dataset.protocol_version = as_text(protocol.get("version")) or ""
    dataset.protocol_url = as_text(protocol.get("url")) or ""
    dataset.cell_type = as_text(document.get("cell_type")) or ""
    dataset.cell_type_label = as_text(document.get("cell_type_label")) or ""
    dataset.performed_on = as_date(document.get("performed_on"))
    dataset.licence = as_text(document.get("licence")) or ""
    dataset.embargo_until = as_date(document.get("embargo_until"))
    dataset.save()
    dataset.line_items.all().delete()
    dataset.measurements.all().delete()
    dataset.fits.all().delete()
    items = [as_dict(item) for item in document.get("lines") or []]
    ids = dict(CellLine.objects.filter(name__in=[i["line"] for i in items]).values_list("name", "pk"))
    DatasetLine.objects.bulk_create(
        [DatasetLine(dataset=dataset, line_id=ids[i["line"]], lot=i.get("lot") or "") for i in items]
    )
    rows = []
    for row in document.get("measurements") or []:
        rows.append(
            Measurement(
                dataset=dataset,
                line_id=ids[row["line"]],
                readout=readout_of(dataset.assay, row)[:80],
                value=float(row["value"]),
                unit=row["unit"],
                replicate=row.get("replicate") or 1,
                well=row.get("well") or "",
                compound=row.get("compound") or "",
                concentration=row.get("concentration"),
                concentration_unit=row.get("concentration_unit") or "",
                time_point=row.get("time_point"),
                time_unit=row.get("time_unit") or "",
            )
        )
    Measurement.objects.bulk_create(rows, batch_size=BATCH)
    if dataset.assay == Assay.DOSE_RESPONSE:
        fit_dataset(dataset, rows)


def fit_dataset(dataset: Dataset, rows: list[Measurement]) -> list[DoseResponseFit]:
    """One 4PL per line and compound (results.fitting), fitted or refused with the reason."""
    curves: dict[tuple[int, str], tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for row in rows:
        if row.concentration is None:
            continue
        xs, ys = curves[(row.line_id, row.compound)]
        xs.append(to_um(row.concentration, row.concentration_unit))
        ys.append(row.value)
    fits = []
    for (line_id, compound), (xs, ys) in sorted(curves.items()):
        fit = fit_four_pl(xs, ys)
        fits.append(
            DoseResponseFit(
                dataset=dataset,
                line_id=line_id,
                compound=compound,
                status=FitStatus.FITTED if fit.fitted else FitStatus.REFUSED,
                ec50_um=fit.ec50_um,
                ec50_ci_low_um=fit.ec50_ci_low_um,
                ec50_ci_high_um=fit.ec50_ci_high_um,
                hill=fit.hill,
                top=fit.top,
                bottom=fit.bottom,
                r_squared=fit.r_squared,
                points=fit.points,
                message=fit.message,
            )
        )
    return DoseResponseFit.objects.bulk_create(fits)


def stale_datasets(now: datetime | None = None) -> QuerySet[Dataset]:
    """Deposits whose validation should have finished: never picked up, or gone quiet."""
    before = (now or timezone.now()) - settings.SUBMISSION_STALE_AFTER
    return Dataset.objects.filter(status__in=[DatasetStatus.RECEIVED, DatasetStatus.VALIDATING], updated_at__lt=before)


def give_up(dataset: Dataset) -> None:
    """Close a deposit whose validation failed MAX_ATTEMPTS times: invalid, with a report saying so."""
    now = timezone.now()
    finding = {
        "rule": "PIPELINE",
        "severity": "error",
        "location": "",
        "message": f"Validation did not finish after {dataset.attempts} attempts. Your upload is kept; "
        "send it again or ask a curator to look at it.",
        "line": None,
        "donor": None,
    }
    Dataset.objects.filter(pk=dataset.pk, status__in=[DatasetStatus.RECEIVED, DatasetStatus.VALIDATING]).update(
        status=DatasetStatus.INVALID,
        findings=[finding],
        error_count=1,
        warning_count=0,
        validated_at=now,
        updated_at=now,
    )
