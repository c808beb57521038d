"""The XLSX workbook: a README sheet, then donors, variants, lines and qc."""

import io

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from lines.submissions.formats.columns import README, SHEETS, TemplateError, problem


def read_xlsx(data, sheets=SHEETS, required="lines"):
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds for a file that is not a workbook
        raise TemplateError([problem("", "the file is not an XLSX workbook")]) from None
    tables = {}
    names = {name.strip().lower(): name for name in workbook.sheetnames}
    for sheet in sheets:
        if sheet in names:
            tables[sheet] = [list(row) for row in workbook[names[sheet]].iter_rows(values_only=True)]
    workbook.close()
    if required not in tables:
        raise TemplateError(
            [problem("", f"the workbook has no {required!r} sheet (sheets: {', '.join(names) or 'none'})")]
        )
    return tables


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
