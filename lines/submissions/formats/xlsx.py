"""The XLSX workbook: a README sheet, then donors, variants, lines, qc, lots and vials."""

import io
import zipfile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from lines.submissions.formats.columns import README, SHEETS, TemplateError, place, problem
from lines.submissions.formats.limits import capped_rows, check_archive, check_sheet_rows


def read_xlsx(data, sheets=SHEETS, required="lines"):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_archive(archive)
            check_sheet_rows(archive)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except TemplateError:
        raise
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds for a file that is not a workbook
        raise TemplateError([problem("", "the file is not an XLSX workbook")]) from None
    tables, problems = {}, []
    names = {name.strip().lower(): name for name in workbook.sheetnames}
    try:
        for sheet in sheets:
            if sheet in names:
                tables[sheet] = _read_sheet(workbook[names[sheet]], sheet, problems)
    finally:
        workbook.close()
    if required not in tables:
        problems.append(problem("", f"the workbook has no {required!r} sheet (sheets: {', '.join(names) or 'none'})"))
    if problems:
        raise TemplateError(problems)
    return tables


def _read_sheet(worksheet, sheet, problems):
    """Every row of the sheet, whatever size it declares. Many tools write a stale
    <dimension> (openpyxl's read-only mode then stops at the declared last row: a
    3-line workbook read as 1 line). The rows are read without it, and a sheet whose
    data lies outside its own declared size is refused rather than guessed at."""
    try:
        declared = worksheet.calculate_dimension()
        max_row, max_column = worksheet.max_row, worksheet.max_column
    except ValueError:  # no <dimension> at all: nothing to disagree with
        declared = max_row = max_column = None
    worksheet.reset_dimensions()
    rows, last_row, last_column = [], 0, 0
    for number, row in enumerate(capped_rows(worksheet.iter_rows(values_only=True), sheet), start=1):
        values = list(row)
        filled = [index for index, value in enumerate(values, start=1) if value not in (None, "")]
        if filled:
            last_row, last_column = number, max(last_column, filled[-1])
        rows.append(values)
    if declared is not None and (last_row > max_row or last_column > max_column):
        problems.append(
            problem(
                place(sheet),
                f"the sheet declares its size as {declared} but holds data up to "
                f"{get_column_letter(last_column)}{last_row}; the program that wrote it left a stale size, "
                "so it is not read by guessing: open it in a spreadsheet program and save it again",
            )
        )
    return rows


def xlsx_bytes(tables, readme=README, sheets=SHEETS):
    workbook = Workbook()
    first = workbook.active
    first.title = "README"
    for text in readme.splitlines():
        first.append([text])
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet)
        for row in tables[sheet]:
            worksheet.append(row)
        for cell in worksheet[1]:
            cell.font = Font(bold=True)
        worksheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
