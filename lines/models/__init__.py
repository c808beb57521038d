"""The lines app's models, one module per concern: the catalog (lines, QC records,
Cellosaurus references), submissions and their protocol versions, and the STR
index rows. Imported from here (`from lines.models import CellLine`)."""

from lines.models.catalog import (
    Availability,
    CellLine,
    CellLineQuerySet,
    CurationStatus,
    ModificationType,
    QCRecord,
    QCResult,
    QCStatus,
    QCTest,
    ReferenceProfile,
    ReprogrammingMethod,
)
from lines.models.str_index import StrIndexEntry, StrIndexState, StrSourceKind
from lines.models.submissions import (
    ProtocolVersion,
    Submission,
    SubmissionFormat,
    SubmissionQuerySet,
    SubmissionStateError,
    SubmissionStatus,
)

__all__ = [
    "Availability",
    "CellLine",
    "CellLineQuerySet",
    "CurationStatus",
    "ModificationType",
    "ProtocolVersion",
    "QCRecord",
    "QCResult",
    "QCStatus",
    "QCTest",
    "ReferenceProfile",
    "ReprogrammingMethod",
    "StrIndexEntry",
    "StrIndexState",
    "StrSourceKind",
    "Submission",
    "SubmissionFormat",
    "SubmissionQuerySet",
    "SubmissionStateError",
    "SubmissionStatus",
]
