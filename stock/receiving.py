"""Receiving vials from a CSV or XLSX file: one row per vial.

Columns (headers case-insensitive; EBiSC's vial export is read as it is):
- vial id: `vial`, `vial id`, `identifier` (a BioSamples accession; minted when blank)
- name: `vial name now`, `vial name`, `name` (optional)
- lot: `batch` or `lot` (the lot's accession, or its code within the line) and/or
  `batch name` / `lot code` (the code, e.g. P001); `batch type` is checked when given
- line: `line` (a catalog line name; another identifier, such as EBiSC's BioSamples
  line accession, is not checked because PRISM does not hold it)
- position (optional): `box` (a box code) and `position` (A1) or `row` and `column`

The file is checked whole before anything is written: a duplicate vial id (in the
file or already in stock), an unknown lot, box or well, or a well already taken
refuses the file, naming every row's problem. Then one transaction writes the
vials in bulk with one StockEvent, and the lines' stock blocks are refreshed.
"""

import csv
import datetime
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from openpyxl import load_workbook

from core.catalog_version import bump
from lines.models import CellLine
from stock.actions import StockError, check_curator
from stock.availability import refresh_line_stock
from stock.models import Location, LocationKind, Lot, LotType, StockEvent, Vial, VialStatus, mint_vial_identifier

MAX_ROWS = 200_000
MAX_PROBLEMS_SHOWN = 200
ALIASES = {
    "identifier": ("vial", "vial id", "identifier", "vial identifier", "biosamples id"),
    "name": ("vial name now", "vial name", "name"),
    "lot": ("batch", "lot", "lot accession", "batch accession"),
    "lot_code": ("batch name", "lot code", "batch id"),
    "lot_type": ("batch type", "lot type"),
    "line": ("line", "cell line"),
    "box": ("box", "location", "box code"),
    "position": ("position", "well"),
    "row": ("row",),
    "column": ("column", "col"),
}
LOT_TYPE_WORDS = {"depositor": LotType.DEPOSITOR, "depositor expansion": LotType.DEPOSITOR, "bank": LotType.BANK}
WELL = re.compile(r"^([A-Z]{1,2})\s*(\d{1,3})$")
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,39}$")


@dataclass
class ReceivingReport:
    vials: int
    lots: list[str]
    event_id: int


def _rows_of_csv(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise StockError("The file is not UTF-8 text (CSV) nor an XLSX workbook.", {"file": "encoding"}) from error
    yield from csv.reader(io.StringIO(text))


def _rows_of_xlsx(data: bytes) -> Iterator[list[str]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken workbook
        raise StockError("The XLSX workbook cannot be read.", {"file": str(error)[:200]}) from error
    sheet = book.worksheets[0]
    for values in sheet.iter_rows(values_only=True):
        yield ["" if v is None else str(v) for v in values]


def read_table(data: bytes, filename: str = "") -> tuple[list[str], list[list[str]]]:
    """Header (lower-cased) and data rows of a CSV or XLSX file."""
    is_xlsx = data[:2] == b"PK" or filename.lower().endswith(".xlsx")
    rows = _rows_of_xlsx(data) if is_xlsx else _rows_of_csv(data)
    header = next(rows, None)
    if not header:
        raise StockError("The file is empty: a header row and one row per vial are expected.", {"file": "empty"})
    body = []
    for row in rows:
        if any(cell.strip() for cell in row):
            body.append(row)
        if len(body) > MAX_ROWS:
            raise StockError(f"At most {MAX_ROWS} vials per file.", {"file": "too many rows"})
    return [h.strip().lower() for h in header], body


def _columns(header: list[str]) -> dict[str, int]:
    found = {}
    for key, names in ALIASES.items():
        for name in names:
            if name in header:
                found[key] = header.index(name)
                break
    return found


def _parse_well(text: str, row_text: str, column_text: str) -> tuple[int, int] | None:
    if text:
        match = WELL.match(text.strip().upper())
        if not match:
            return None
        letters, number = match.groups()
        row = 0
        for letter in letters:
            row = row * 26 + (ord(letter) - 64)
        return row, int(number)
    try:
        return int(row_text), int(column_text)
    except ValueError:
        return None


@dataclass
class NewVial:
    """A checked row, as plain values: 100,000 model instances would cost seconds."""

    identifier: str
    name: str
    lot: Lot
    location_id: int | None = None
    row: int | None = None
    column: int | None = None


def check_rows(header: list[str], rows: list[list[str]]) -> tuple[list[NewVial], list[str]]:
    """The vials a file would create, and every problem found ("row N, column: …")."""
    cols = _columns(header)
    problems: list[str] = []
    if "lot" not in cols and "lot_code" not in cols:
        raise StockError(
            "The file needs a lot column: batch or lot (accession or code), or batch name / lot code.",
            {"columns": header},
        )
    if "lot_code" in cols and "lot" not in cols and "line" not in cols:
        raise StockError("A lot code (batch name) needs a line column to find its lot.", {"columns": header})

    def cell(row: list[str], key: str) -> str:
        i = cols.get(key)
        return row[i].strip() if i is not None and i < len(row) else ""

    def cells(row: list[str]) -> dict[str, str]:
        # Once per row: 100,000 rows make every call count.
        width = len(row)
        return {key: row[i].strip() if i < width else "" for key, i in cols.items()}

    lots_by_accession = {lot.accession: lot for lot in Lot.objects.exclude(accession=None).select_related("line")}
    lots_by_code = {(lot.line.name, lot.code): lot for lot in Lot.objects.select_related("line")}
    line_names = set(CellLine.objects.filter(name__in={cell(r, "line") for r in rows}).values_list("name", flat=True))
    boxes = {b.code: b for b in Location.objects.filter(kind=LocationKind.BOX, code__in={cell(r, "box") for r in rows})}
    taken = set(Vial.objects.filter(location__in=list(boxes.values())).values_list("location_id", "row", "column"))
    wanted_ids = [cell(r, "identifier") for r in rows if cell(r, "identifier")]
    existing: set[str] = set()
    for start in range(0, len(wanted_ids), 5000):
        chunk = wanted_ids[start : start + 5000]
        existing.update(Vial.objects.filter(identifier__in=chunk).order_by().values_list("identifier", flat=True))

    seen_ids: dict[str, int] = {}
    seen_wells: dict[tuple[int, int, int], int] = {}
    vials = []
    for n, row in enumerate(rows, start=2):
        where = f"row {n}"
        values = cells(row)
        value = values.get
        identifier = value("identifier", "")
        if identifier:
            if not IDENTIFIER.match(identifier):
                problems.append(
                    f"{where}, vial: {identifier!r} is not a vial id (letters, digits, . _ : -; 40 at most)"
                )
            elif identifier in existing:
                problems.append(f"{where}, vial: {identifier} is already in stock")
            elif identifier in seen_ids:
                problems.append(f"{where}, vial: {identifier} is repeated (first on row {seen_ids[identifier]})")
            seen_ids.setdefault(identifier, n)
        line_name = value("line", "")
        lot_ref, lot_code = value("lot", ""), value("lot_code", "")
        lot = lots_by_accession.get(lot_ref) if lot_ref else None
        if lot is None and line_name in line_names:
            lot = lots_by_code.get((line_name, lot_code or lot_ref))
        if lot is None:
            problems.append(
                f"{where}, lot: unknown lot {lot_ref or lot_code or '(blank)'}"
                + (f" of {line_name}" if line_name else "")
            )
            continue
        if line_name in line_names and line_name != lot.line.name:
            problems.append(f"{where}, line: lot {lot_ref} is a lot of {lot.line.name}, not {line_name}")
        if lot_code and lot_ref and lot_code != lot.code:
            problems.append(f"{where}, batch name: lot {lot_ref} is {lot.code} here, not {lot_code}")
        lot_type = value("lot_type", "").lower()
        if lot_type and LOT_TYPE_WORDS.get(lot_type, lot_type) != lot.lot_type:
            problems.append(f"{where}, batch type: lot {lot.code} is a {lot.lot_type} lot, not {lot_type}")
        vial = NewVial(identifier or mint_vial_identifier(), value("name", "")[:100], lot)
        box_code = value("box", "")
        if box_code:
            box = boxes.get(box_code)
            written = value("position", "")
            well = _parse_well(written, value("row", ""), value("column", ""))
            if box is None:
                problems.append(f"{where}, box: unknown box {box_code}")
            elif well is None:
                problems.append(f"{where}, position: give a well such as A1 (or row and column)")
            elif not (1 <= well[0] <= (box.rows or 0) and 1 <= well[1] <= (box.columns or 0)):
                problems.append(f"{where}, position: {box_code} has {box.rows} rows and {box.columns} columns")
            elif (place := (box.pk, well[0], well[1])) in taken:
                problems.append(f"{where}, position: {box_code} {written or well} is already taken")
            elif place in seen_wells:
                problems.append(f"{where}, position: {box_code} {written or well} is also on row {seen_wells[place]}")
            else:
                seen_wells[place] = n
                vial.location_id, vial.row, vial.column = place
        vials.append(vial)
    return vials, problems


def receive_vials(data: bytes, *, by: User, filename: str = "", reason: str = "") -> ReceivingReport:
    """Check the whole file, then write every vial, or nothing (StockError names each problem)."""
    check_curator(by)
    header, rows = read_table(data, filename)
    if not rows:
        raise StockError("The file has a header but no vials.", {"file": "no rows"})
    vials, problems = check_rows(header, rows)
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        raise StockError(
            f"The file is refused: {len(problems)} problem(s); nothing was received.",
            {"rows": shown + ([f"… and {more} more"] if more else [])},
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            event = StockEvent.objects.create(
                action="received",
                actor=by,
                reason=reason,
                details={"file": filename[:200], "vials": len(vials)},
                at=now,
            )
            _write(vials, event, now)
            refresh_line_stock({v.lot.line_id for v in vials})
    except IntegrityError as error:
        # Another upload took an id or a well between the check and the write.
        raise StockError("The file is refused: a vial id or a well was taken meanwhile; try again.") from error
    return ReceivingReport(len(vials), sorted({f"{v.lot.line.name} {v.lot.code}" for v in vials}), event.pk)


def _write(vials: list[NewVial], event: StockEvent, now: datetime.datetime) -> None:
    if connection.vendor == "postgresql":
        _copy(vials, event, now)
        return
    Vial.objects.bulk_create(
        (
            Vial(
                identifier=v.identifier,
                name=v.name,
                lot=v.lot,
                status=VialStatus.IN_STOCK,
                location_id=v.location_id,
                row=v.row,
                column=v.column,
                received=event,
                updated_at=now,
            )
            for v in vials
        ),
        batch_size=2000,
    )


def _copy(vials: list[NewVial], event: StockEvent, now: datetime.datetime) -> None:
    """COPY is several times faster than INSERT for 100,000 vials (bench/stock.py)."""
    table = Vial._meta.db_table
    columns = ("identifier", "name", "lot_id", "status", "location_id", "row", "column", "received_id", "updated_at")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    stamp = now.isoformat()
    writer.writerows(
        (
            v.identifier,
            v.name,
            v.lot.pk,
            VialStatus.IN_STOCK,
            _null(v.location_id),
            _null(v.row),
            _null(v.column),
            event.pk,
            stamp,
        )
        for v in vials
    )
    buffer.seek(0)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)
    bump()  # COPY bypasses the ORM: the catalog version is bumped here


def _null(value: Any) -> Any:
    return "\\N" if value is None else value
