"""The CSV set: a zip of donors.csv, variants.csv, lines.csv and qc.csv (and a README)."""

import csv
import io
import zipfile

from core.encodings import EncodingError, decode_text
from core.spreadsheets import from_spreadsheet_safe, safe_row
from lines.submissions.formats.columns import README, SHEETS, TemplateError, place, problem
from lines.submissions.formats.limits import capped_rows, check_member_size


def read_csv_zip(data):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise TemplateError(
            [
                problem(
                    "",
                    "the CSV set must be a zip of donors.csv, variants.csv, lines.csv and qc.csv",
                )
            ]
        ) from None
    members = {}
    for info in archive.infolist():
        base = info.filename.rsplit("/", 1)[-1].lower()
        if base.endswith(".csv") and not base.startswith(("._", "~")) and base[:-4] in SHEETS:
            members[base[:-4]] = info
    tables, problems = {}, []
    for sheet in SHEETS:
        info = members.get(sheet)
        if info is None:
            continue
        check_member_size(info, place(sheet))
        try:
            tables[sheet] = decode_csv(archive.read(info), f"{sheet}.csv", sheet)
        except EncodingError as error:
            problems.append(problem(place(sheet), str(error)))
            continue
    if "lines" not in members:
        problems.append(
            problem(
                "",
                "the zip has no lines.csv (expected donors.csv, variants.csv, lines.csv, qc.csv)",
            )
        )
    if problems:
        raise TemplateError(problems)
    return tables


def decode_csv(raw, name="the CSV file", sheet="table"):
    """Rows of one CSV file's bytes, in the encoding its byte-order mark names, else
    UTF-8 (another encoding is an EncodingError naming what was found: core.encodings),
    with the delimiter a spreadsheet used (comma, semicolon or tab), at most
    SUBMISSION_MAX_SHEET_ROWS rows; formula-like cells this catalog quoted are read back."""
    text = decode_text(raw, name)
    sample = text[:4096]
    delimiter = (
        ";"
        if sample.count(";") > sample.count(",") and "\t" not in sample
        else ("\t" if "\t" in sample.split("\n", 1)[0] else ",")
    )
    rows = capped_rows(csv.reader(io.StringIO(text), delimiter=delimiter), sheet)
    # The templates this catalog writes quote formula-like cells (core.spreadsheets).
    return [[from_spreadsheet_safe(cell) for cell in row] for row in rows]


def csv_zip_bytes(tables, readme=README):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme)
        for sheet in SHEETS:
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(safe_row(row) for row in tables[sheet])
            archive.writestr(f"{sheet}.csv", text.getvalue())
    return buffer.getvalue()
