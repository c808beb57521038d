"""Batch STR search: many query profiles from one CSV/TSV/XLSX file in CLASTR's batch
layout (a header row "Sample Name", marker, marker, …; one profile per row), answered
as one result table. Used by the API, the web page and `manage.py str_search --file`.
"""

import csv
import io
import re
from dataclasses import dataclass

from django.conf import settings
from openpyxl import load_workbook

from core.encodings import EncodingError, decode_text
from core.spreadsheets import safe_dict
from lines.str.matching import (
    canonical_marker,
    check_profile,
    format_profile,
    is_possible_mixture,
    scored_marker_count,
    similarity_band,
)
from lines.str.search import search_profiles

MAX_BATCH_PROFILES = settings.STR_BATCH_MAX_PROFILES
MAX_BATCH_BYTES = settings.STR_BATCH_MAX_BYTES

SAMPLE_COLUMNS = {"samplename", "sample", "name", "sampleid", "query", "queryname"}

CSV_COLUMNS = [
    "sample",
    "sample_mixture",
    "sample_error",
    "rank",
    "name",
    "accession",
    "kind",
    "score",
    "band",
    "markers",
    "shared_alleles",
    "query_alleles",
    "reference_alleles",
    "best_score",
    "worst_score",
    "mixture",
    "url",
]


class BatchError(ValueError):
    """The file cannot be searched; `problems` lists every reason, each saying where."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass
class BatchSample:
    row: int
    name: str
    profile: dict


def _rows_from_xlsx(data):
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # a stale <dimension> would hide rows
        rows = list(sheet.iter_rows(values_only=True))
    except Exception as error:  # noqa: BLE001 — openpyxl raises many types for a bad workbook
        raise BatchError([f"the file is not a readable XLSX workbook ({error.__class__.__name__})"]) from error
    for values in rows:
        yield [
            "" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)) for v in values
        ]


# Characters no CSV or TSV holds: C0 controls but tab, line feed and carriage return.
BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _rows_from_text(data):
    try:
        text = decode_text(data)
    except EncodingError as error:
        if match := BINARY_BYTES.search(data):
            row = data.count(b"\n", 0, match.start()) + 1
            raise BatchError(
                [f"row {row}: binary content (byte {match.group()!r}); send a CSV, TSV or XLSX file"]
            ) from None
        raise BatchError([str(error)]) from None
    if "\n" not in text:
        text = text.replace("\r", "\n")  # classic Mac line endings: CR alone ends every row
    text = text.replace("\r\n", "\n")
    for number, line in enumerate(text.split("\n"), start=1):
        if "\r" in line:
            raise BatchError(
                [
                    f"row {number}: a carriage return (CR) in the middle of the row; save the file with ordinary line endings"
                ]
            )
        if match := BINARY.search(line):
            raise BatchError(
                [f"row {number}: binary content (character {match.group()!r}); send a CSV, TSV or XLSX file"]
            )
    first = text.split("\n", 1)[0]
    delimiter = max(("\t", ",", ";"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as error:
        raise BatchError([f"row {reader.line_num}: {error}"]) from None


def read_batch(data, filename=""):
    """The profiles of a batch file (bytes). Raises BatchError listing every problem."""
    if len(data) > MAX_BATCH_BYTES:
        raise BatchError([f"the file is {len(data):,} bytes; the limit is {MAX_BATCH_BYTES:,} bytes"])
    if not data.strip():
        raise BatchError(["the file is empty"])
    is_xlsx = filename.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK"
    rows = [row for row in (_rows_from_xlsx(data) if is_xlsx else _rows_from_text(data)) if any(c.strip() for c in row)]
    if not rows:
        raise BatchError(["the file has no rows"])
    header = [c.strip() for c in rows[0]]
    problems = []
    sample_col = 0 if header and header[0].replace(" ", "").replace("_", "").lower() in SAMPLE_COLUMNS else None
    markers = {}
    for i, column in enumerate(header):
        if i == sample_col or not column:
            continue
        if canonical_marker(column) is None:
            problems.append(f"column {i + 1} ({column!r}) is not an STR marker")
        markers[i] = column
    data_rows = rows[1:]
    if len(data_rows) > MAX_BATCH_PROFILES:
        problems.append(f"the file has {len(data_rows)} profiles; the limit is {MAX_BATCH_PROFILES} per batch")
    if problems:
        raise BatchError(problems)
    if not data_rows:
        raise BatchError(["the file has a header but no profiles"])
    samples = []
    for number, row in enumerate(data_rows, start=2):
        name = row[sample_col].strip() if sample_col is not None and len(row) > sample_col else ""
        name = name or f"row {number}"
        # An empty cell means the marker was not typed; "ND" means typed, not determined.
        raw = {markers[i]: row[i] for i in markers if i < len(row) and row[i].strip()}
        profile, row_problems = check_profile(raw, keep_empty_markers=True)
        problems += [f"row {number} ({name}), {marker}: {problem}" for marker, problem in row_problems.items()]
        samples.append(BatchSample(number, name, profile))
    if problems:
        raise BatchError(problems)
    return samples


def run_batch(samples, *, user=None, **parameters):
    """Search every sample; one result per sample, in file order."""
    min_markers = parameters.get("min_markers", 8)
    include_amelogenin = parameters.get("include_amelogenin", False)
    results = []
    for sample in samples:
        result = {
            "row": sample.row,
            "sample": sample.name,
            "query": format_profile(sample.profile),
            "mixture": is_possible_mixture(sample.profile),
            "error": None,
            "results": [],
        }
        count = scored_marker_count(sample.profile, include_amelogenin=include_amelogenin)
        if count < min_markers:
            result["error"] = f"{count} markers with alleles; at least {min_markers} are needed"
        else:
            result["results"] = [h.as_dict() for h in search_profiles(sample.profile, user=user, **parameters)]
        results.append(result)
    return results


def batch_csv(results, algorithm="tanabe"):
    """One table for the whole batch: a row per hit, and a row for a sample without hits."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for sample in results:
        base = {
            "sample": sample["sample"],
            "sample_mixture": sample["mixture"],
            "sample_error": sample["error"] or "",
        }
        if not sample["results"]:
            writer.writerow(safe_dict(base))
        for rank, hit in enumerate(sample["results"], start=1):
            writer.writerow(
                safe_dict(
                    {
                        **base,
                        **hit,
                        "rank": rank,
                        "band": similarity_band(hit["score"], algorithm),
                        "best_score": (hit.get("best") or {}).get("score", ""),
                        "worst_score": (hit.get("worst") or {}).get("score", ""),
                    }
                )
            )
    return out.getvalue()
