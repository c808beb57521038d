"""Resource caps at intake: the unpacked size of every zip member and the rows of
every sheet (settings.SUBMISSION_MAX_MEMBER_BYTES, SUBMISSION_MAX_SHEET_ROWS).
A 309 KB zip whose qc.csv unpacked to 120 MB took a worker to 5.6 GB; a
workbook with a million QC rows stored a million findings."""

import io
import zipfile

import pytest
from openpyxl import Workbook

from lines.models import Submission
from lines.submissions import pipeline
from lines.submissions.formats import document_to_csv_zip, document_to_xlsx
from tests.conftest import client_for
from tests.lines.submissions.hardening.test_xlsx_dimensions import _with_dimension
from tests.submission_helpers import SUBMISSIONS_URL as URL
from tests.submission_helpers import submission_document

pytestmark = pytest.mark.django_db


def _post(user, content, name):
    upload = io.BytesIO(content)
    upload.name = name
    return client_for(user).post(URL, data={"file": upload}, format="multipart")


def test_a_zip_whose_qc_csv_unpacks_past_the_limit_is_refused_with_413(depositor, settings):
    settings.SUBMISSION_MAX_MEMBER_BYTES = 200_000
    csv_set = io.BytesIO()
    with zipfile.ZipFile(csv_set, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("lines.csv", "local_id,donor\nL1,D1\n")
        archive.writestr("qc.csv", "line,test,result\n" + "L1,mycoplasma,pass\n" * 20_000)
    assert len(csv_set.getvalue()) < 20_000  # small on the wire, large unpacked
    response = _post(depositor, csv_set.getvalue(), "deposit.zip")
    assert response.status_code == 413, response.content
    assert "qc.csv unpacks to" in response.json()["detail"]
    assert "at most 200,000 bytes" in response.json()["detail"]
    assert not Submission.objects.exists()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_sheet_with_more_rows_than_the_limit_is_refused_with_413_naming_it(depositor, settings, fmt):
    settings.SUBMISSION_MAX_SHEET_ROWS = 50
    document = submission_document(2)
    # 2 lines with 40 QC records each: 80 QC rows, a few lines.
    for line in document["lines"]:
        line["qc"] = line["qc"] * (40 // len(line["qc"]) + 1)
    content = document_to_xlsx(document) if fmt == "xlsx" else document_to_csv_zip(document)
    response = _post(depositor, content, f"deposit.{'xlsx' if fmt == 'xlsx' else 'zip'}")
    assert response.status_code == 413, response.content
    assert "sheet qc" in response.json()["detail"].lower()
    assert "at most 50 are accepted" in response.json()["detail"]
    assert not Submission.objects.exists()


def test_a_stale_dimension_does_not_hide_lines_from_the_line_limit(depositor):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "lines"
    sheet.append(["local_id", "donor"])
    for i in range(10_001):
        sheet.append([f"L{i}", "D1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = _post(depositor, _with_dimension(buffer.getvalue(), "A1:B2"), "big.xlsx")
    assert response.status_code == 413, response.content
    assert "10,001 lines" in response.json()["detail"]


def test_the_worker_stops_reading_at_the_limit_with_a_finding(depositor, settings):
    response = _post(depositor, document_to_xlsx(submission_document(3)), "deposit.xlsx")
    assert response.status_code == 202
    settings.SUBMISSION_MAX_SHEET_ROWS = 2  # lowered after intake accepted it
    submission = pipeline.run_validation(response.json()["id"])
    assert submission.status == "invalid"
    assert any("at most 2 are accepted" in f["message"] for f in submission.findings)
