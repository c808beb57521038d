"""Cells the catalog writes into a CSV file, made safe for spreadsheet programs.

A cell that starts with = + - @ (or a tab or carriage return) runs as a formula
when the file is opened in Excel, LibreOffice or Google Sheets: `=HYPERLINK(...)`
in a depositor's local id reached a curator's spreadsheet through the submission
report. Every CSV the catalog writes goes through `spreadsheet_safe` (OWASP's CSV
injection advice: prefix such a cell with a single quote). A plain number such as
-0.5 is no formula and is left alone. The catalog's own CSV reader (the submission
template) takes the quote off again (`from_spreadsheet_safe`)."""

import re
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def spreadsheet_safe(value: Any) -> str:
    """The cell's text, quoted with a leading ' if a spreadsheet would run it as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not NUMBER.match(text):
        return "'" + text
    return text


def safe_row(values: Iterable[Any]) -> list[str]:
    return [spreadsheet_safe(value) for value in values]


def safe_dict(row: Mapping[str, Any]) -> dict[str, str]:
    return {key: spreadsheet_safe(value) for key, value in row.items()}


def from_spreadsheet_safe(text: str) -> str:
    """The value `spreadsheet_safe` quoted, unquoted (for the catalog's own templates)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) and not NUMBER.match(text[1:]):
        return text[1:]
    return text
