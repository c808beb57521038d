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
        if row and (row[0].strip() or any(cell.strip() for cell in row)):
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
class NewVials:
    """The checked rows, column by column (plain lists, one entry per vial): 100,000
    model instances, or even row objects, would cost seconds (bench/stock.py)."""

    identifier: list[str]
    name: list[str]
    lot: list[Lot]
    location_id: list[int | None]
    row: list[int | None]
    column: list[int | None]

    def __len__(self) -> int:
        return len(self.identifier)


# The order a row's problems are named in (the file is checked column by column).
_VIAL, _LOT, _LINE, _LOT_CODE, _LOT_TYPE, _POSITION = range(6)


def _column(rows: list[list[str]], index: int | None) -> list[str]:
    """One column's stripped cells ('' where a row is short or the column absent)."""
    if index is None:
        return [""] * len(rows)
    try:
        return [r[index].strip() for r in rows]
    except IndexError:
        return [r[index].strip() if index < len(r) else "" for r in rows]


def _existing_identifiers(identifiers: set[str]) -> set[str]:
    """Which of these vial ids the bank already holds."""
    if not identifiers:
        return set()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # One round trip with one array parameter: the ORM's IN list of 100,000
            # values costs a second to build.
            cursor.execute(
                f"SELECT identifier FROM {Vial._meta.db_table} WHERE identifier = ANY(%s)",  # noqa: S608
                [list(identifiers)],
            )
            return {found for (found,) in cursor.fetchall()}
    wanted, existing = list(identifiers), set[str]()
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        existing.update(Vial.objects.filter(identifier__in=chunk).order_by().values_list("identifier", flat=True))
    return existing


def check_rows(header: list[str], rows: list[list[str]]) -> tuple[NewVials, list[str]]:
    """The vials a file would create, and every problem found ("row N, column: …"),
    in row order. Checked column by column: each column is read once into a list,
    and what repeats (a lot reference, a well such as A1) is decided once."""
    cols = _columns(header)
    if "lot" not in cols and "lot_code" not in cols:
        raise StockError(
            "The file needs a lot column: batch or lot (accession or code), or batch name / lot code.",
            {"columns": header},
        )
    if "lot_code" in cols and "lot" not in cols and "line" not in cols:
        raise StockError("A lot code (batch name) needs a line column to find its lot.", {"columns": header})
    found: list[tuple[int, int, str]] = []  # (row, order, message)
    column = {key: _column(rows, cols.get(key)) for key in ALIASES}
    lots_ok = _check_lots(column, found)
    identifiers = _check_identifiers(column["identifier"], found)
    wells = _check_wells(column, lots_ok, found)
    keep = [n for n, lot in enumerate(lots_ok) if lot is not None]
    names = column["name"]
    vials = NewVials(
        identifier=[identifiers[n] or mint_vial_identifier() for n in keep],
        name=[names[n][:100] for n in keep],
        lot=[lots_ok[n] for n in keep],  # type: ignore[misc]  # None was left out above
        location_id=[wells[n][0] for n in keep],
        row=[wells[n][1] for n in keep],
        column=[wells[n][2] for n in keep],
    )
    found.sort(key=lambda problem: problem[:2])
    return vials, [f"row {row}, {message}" for row, _order, message in found]


def _check_identifiers(identifiers: list[str], found: list[tuple[int, int, str]]) -> list[str]:
    given = {i for i in identifiers if i}
    well_formed = {i for i in given if IDENTIFIER.match(i)}
    existing = _existing_identifiers(well_formed)
    seen: dict[str, int] = {}
    for n, identifier in enumerate(identifiers, start=2):
        if not identifier:
            continue
        if identifier not in well_formed:
            message = f"vial: {identifier!r} is not a vial id (letters, digits, . _ : -; 40 at most)"
            found.append((n, _VIAL, message))
        elif identifier in existing:
            found.append((n, _VIAL, f"vial: {identifier} is already in stock"))
        elif identifier in seen:
            found.append((n, _VIAL, f"vial: {identifier} is repeated (first on row {seen[identifier]})"))
        seen.setdefault(identifier, n)
    return identifiers


def _check_lots(column: dict[str, list[str]], found: list[tuple[int, int, str]]) -> list[Lot | None]:
    """Each row's lot (None when unknown: the row's other checks stop there)."""
    keys = list(zip(column["line"], column["lot"], column["lot_code"], column["lot_type"], strict=True))
    distinct = set(keys)
    lots_by_accession = {lot.accession: lot for lot in Lot.objects.exclude(accession=None).select_related("line")}
    lots_by_code = {(lot.line.name, lot.code): lot for lot in Lot.objects.select_related("line")}
    line_names = set(CellLine.objects.filter(name__in={k[0] for k in distinct}).values_list("name", flat=True))
    verdicts = {key: _lot_of(key, lots_by_accession, lots_by_code, line_names) for key in distinct}
    lots: list[Lot | None] = []
    for n, key in enumerate(keys, start=2):
        lot, problems = verdicts[key]
        if problems:
            found.extend((n, order, message) for order, message in problems)
        lots.append(lot)
    return lots


def _lot_of(
    key: tuple[str, str, str, str], by_accession: dict, by_code: dict, line_names: set[str]
) -> tuple[Lot | None, list[tuple[int, str]]]:
    """The lot one combination of line, lot, batch name and batch type names, and what is wrong with it."""
    line_name, lot_ref, lot_code, lot_type = key
    lot = by_accession.get(lot_ref) if lot_ref else None
    if lot is None and line_name in line_names:
        lot = by_code.get((line_name, lot_code or lot_ref))
    if lot is None:
        of = f" of {line_name}" if line_name else ""
        return None, [(_LOT, f"lot: unknown lot {lot_ref or lot_code or '(blank)'}{of}")]
    problems = []
    if line_name in line_names and line_name != lot.line.name:
        problems.append((_LINE, f"line: lot {lot_ref} is a lot of {lot.line.name}, not {line_name}"))
    if lot_code and lot_ref and lot_code != lot.code:
        problems.append((_LOT_CODE, f"batch name: lot {lot_ref} is {lot.code} here, not {lot_code}"))
    lot_type = lot_type.lower()
    if lot_type and LOT_TYPE_WORDS.get(lot_type, lot_type) != lot.lot_type:
        problems.append((_LOT_TYPE, f"batch type: lot {lot.code} is a {lot.lot_type} lot, not {lot_type}"))
    return lot, problems


_NO_WELL = (None, None, None)


def _check_wells(
    column: dict[str, list[str]], lots: list[Lot | None], found: list[tuple[int, int, str]]
) -> list[tuple[int | None, int | None, int | None]]:
    """Each row's (box id, row, column), or no position; a row of an unknown lot is not placed."""
    box_codes = column["box"]
    places: list[tuple[int | None, int | None, int | None]] = [_NO_WELL] * len(box_codes)
    wanted = {code for code in box_codes if code}
    if not wanted:
        return places
    boxes = {
        code: (pk, rows or 0, columns or 0)
        for code, pk, rows, columns in Location.objects.filter(kind=LocationKind.BOX, code__in=wanted).values_list(
            "code", "pk", "rows", "columns"
        )
    }
    box_ids = [pk for pk, _rows, _columns in boxes.values()]
    taken = set(Vial.objects.filter(location_id__in=box_ids).values_list("location_id", "row", "column"))
    parsed: dict[tuple[str, str, str], tuple[int, int] | None] = {}
    seen: dict[tuple[int, int, int], int] = {}
    written_column, row_column, column_column = column["position"], column["row"], column["column"]
    for index, box_code in enumerate(box_codes):
        if not box_code or lots[index] is None:
            continue
        n = index + 2
        written = written_column[index]
        box = boxes.get(box_code)
        spelled = (written, row_column[index], column_column[index])
        if spelled not in parsed:
            parsed[spelled] = _parse_well(*spelled)
        well = parsed[spelled]
        if box is None:
            found.append((n, _POSITION, f"box: unknown box {box_code}"))
        elif well is None:
            found.append((n, _POSITION, "position: give a well such as A1 (or row and column)"))
        elif not (1 <= well[0] <= box[1] and 1 <= well[1] <= box[2]):
            found.append((n, _POSITION, f"position: {box_code} has {box[1]} rows and {box[2]} columns"))
        elif (place := (box[0], well[0], well[1])) in taken:
            found.append((n, _POSITION, f"position: {box_code} {written or well} is already taken"))
        elif place in seen:
            found.append((n, _POSITION, f"position: {box_code} {written or well} is also on row {seen[place]}"))
        else:
            seen[place] = n
            places[index] = place
    return places


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
            refresh_line_stock({lot.line_id for lot in set(vials.lot)})
    except IntegrityError as error:
        # Another upload took an id or a well between the check and the write.
        raise StockError("The file is refused: a vial id or a well was taken meanwhile; try again.") from error
    return ReceivingReport(len(vials), sorted({f"{lot.line.name} {lot.code}" for lot in set(vials.lot)}), event.pk)


def _write(vials: NewVials, event: StockEvent, now: datetime.datetime) -> None:
    if connection.vendor == "postgresql":
        _copy(vials, event, now)
        return
    Vial.objects.bulk_create(
        (
            Vial(
                identifier=identifier,
                name=name,
                lot=lot,
                status=VialStatus.IN_STOCK,
                location_id=location_id,
                row=row,
                column=column,
                received=event,
                updated_at=now,
            )
            for identifier, name, lot, location_id, row, column in zip(
                vials.identifier, vials.name, vials.lot, vials.location_id, vials.row, vials.column, strict=True
            )
        ),
        batch_size=2000,
    )


def _copy(vials: NewVials, event: StockEvent, now: datetime.datetime) -> None:
    """COPY is several times faster than INSERT for 100,000 vials (bench/stock.py)."""
    table = Vial._meta.db_table
    columns = ("identifier", "name", "lot_id", "status", "location_id", "row", "column", "received_id", "updated_at")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    count = len(vials)
    writer.writerows(
        zip(
            vials.identifier,
            vials.name,
            [lot.pk for lot in vials.lot],
            [VialStatus.IN_STOCK.value] * count,
            [_null(v) for v in vials.location_id],
            [_null(v) for v in vials.row],
            [_null(v) for v in vials.column],
            [event.pk] * count,
            [now.isoformat()] * count,
            strict=True,
        )
    )
    buffer.seek(0)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)
    bump()  # COPY bypasses the ORM: the catalog version is bumped here


def _null(value: Any) -> Any:
    return "\\N" if value is None else value
