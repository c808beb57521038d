"""A dataset's measurement table (one CSV file, or the `measurements` sheet of a
workbook) to the deposit document, and the blank templates per assay.

The cells are read by the submission templates' own pieces
(lines.submissions.formats): the CSV decoding, the header and comment rows, the
conversion of a cell by column kind, TemplateError and the located problems. The
lines of the dataset are the table's `line` column, in order, with the `lot` the
first of their rows names.
"""

import csv
import io
from collections.abc import Callable
from typing import Any

from core.encodings import EncodingError
from lines.submissions.formats.columns import TemplateError, place, problem
from lines.submissions.formats.csv_set import decode_csv
from lines.submissions.formats.tables import convert_cell, table_rows
from lines.submissions.formats.xlsx import read_xlsx, xlsx_bytes
from results.assays import table_columns

SHEET = "measurements"
README = """PRISM results template: one row per measurement (per well or per line and replicate).

The first row names the columns; rows starting with # are comments (the second row
describes each column). `line` is a catalog line name; every line must be one you
deposit for (your institution's, or one whose vials were shipped to you). Put the
dataset's title, protocol, cell type and licence in the deposit form (or the API's
`metadata`). Units: see each column's description. The rules: /results/assays/
"""


def read_table(content: bytes, fmt: str) -> list[list[Any]]:
    if fmt == "csv":
        if content[:2] == b"PK":
            raise TemplateError([problem("", "this is a zip or workbook, not a CSV file: choose the XLSX format")])
        try:
            return decode_csv(content, "the measurement table")
        except EncodingError as error:
            raise TemplateError([problem("", str(error))]) from error
    if fmt == "xlsx":
        return read_xlsx(content, sheets=(SHEET,), required=SHEET)[SHEET]
    raise TemplateError([problem("", f"unknown format {fmt!r}; use csv or xlsx")])


def table_to_document(
    content: bytes, fmt: str, assay: str, metadata: dict[str, Any]
) -> tuple[dict[str, Any], Callable[[str], str | None]]:
    """(document, locate): the metadata with the table's lines and measurements.
    Raises TemplateError (every problem with its row and column) for a table that
    cannot be read at all; a value of the wrong type is left to the schema."""
    columns = table_columns(assay)
    problems: list[dict[str, Any]] = []
    table = read_table(content, fmt)
    where = "sheet measurements" if fmt == "xlsx" else "measurements.csv"

    def kind_of(column):
        spec = columns.get(column)
        return spec[0] if spec else None

    rows, _header = table_rows(SHEET, table, problems, kind_of)
    for found in problems:
        found["location"] = found["location"].replace(f"sheet {SHEET}", where)
    measurements, origins, lots = [], [], {}
    for row_number, values in rows:
        item: dict[str, Any] = {}
        for column, raw in values.items():
            item[column] = convert_cell(columns[column][0], raw, _place(where, row_number, column), problems)
        lot = item.pop("lot", None)
        line = item.get("line")
        if isinstance(line, str):
            lots.setdefault(line, None)
            if lot and not lots[line]:
                lots[line] = str(lot)
        measurements.append(item)
        origins.append(row_number)
    if problems:
        raise TemplateError(problems)
    document = dict(metadata)
    document["assay"] = assay
    if "lines" not in document:
        document["lines"] = [{"line": name, **({"lot": lot} if lot else {})} for name, lot in lots.items()]
    document["measurements"] = measurements

    def locate(pointer: str) -> str | None:
        parts = pointer.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "measurements" and parts[1].isdigit() and int(parts[1]) < len(origins):
            return _place(where, origins[int(parts[1])], parts[2] if len(parts) > 2 else None)
        if len(parts) >= 2 and parts[0] == "lines":
            return f"{where}, column line"
        return None

    return document, locate


def _place(where, row, column):
    return place(SHEET, row, column).replace(f"sheet {SHEET}", where)


def blank_rows(assay: str) -> list[list[str]]:
    columns = table_columns(assay)
    return [
        list(columns),
        [f"# {description}" if i == 0 else description for i, (_k, description) in enumerate(columns.values())],
    ]


def blank_csv(assay: str) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(blank_rows(assay))
    return text.getvalue().encode("utf-8")


def blank_xlsx(assay: str) -> bytes:
    return xlsx_bytes({SHEET: blank_rows(assay)}, readme=README, sheets=(SHEET,))
