"""/api/v1/submissions/ POST: a deposit is saved at once and validated after commit; uploads
in JSON, XLSX or a CSV set; the protocol version named and its limits enforced."""

import csv
import io
import json
import zipfile

import pytest
from django.core.files.storage import default_storage
from openpyxl import Workbook

from lines.models import ProtocolVersion, Submission
from lines.submissions import pipeline
from lines.submissions.documents import load_document
from lines.submissions.formats import document_to_csv_zip, document_to_xlsx
from tests.conftest import client_for
from tests.submission_helpers import SUBMISSIONS_URL as URL
from tests.submission_helpers import as_bytes, detail, submission_document

pytestmark = pytest.mark.django_db


# --- deposit ----------------------------------------------------------------
def test_a_depositor_gets_202_at_once_and_the_document_is_saved_before_validation(depositor, submit):
    document = submission_document(2)
    response = submit(document, run=False)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "received"
    assert body["progress"] == {"done": 0, "total": 2, "percent": 0}
    assert response["Location"].endswith(f"{URL}{body['id']}/")
    submission = Submission.objects.get(pk=body["id"])
    # Saved with its bytes, its institution and its protocol, nothing validated yet.
    assert submission.institution == depositor.profile.institution
    assert submission.protocol_version.identifier == "prism-line-submission/1"
    with submission.document.open("rb") as handle:
        assert json.loads(handle.read()) == document
    assert submission.findings == [] and submission.validated_at is None


def test_a_valid_document_is_validated_after_commit_and_reported_valid(depositor, submit):
    response = submit(submission_document(2))
    body = detail(depositor, response.json()["id"]).json()
    assert body["status"] == "valid", body["findings"]
    assert body["progress"] == {"done": 2, "total": 2, "percent": 100}
    assert body["findings"] == []
    assert body["error_count"] == 0
    assert body["attempts"] == 1


def test_an_invalid_document_reports_rule_severity_location_and_message(depositor, submit):
    document = submission_document(1)
    document["lines"][0]["qc"] = [q for q in document["lines"][0]["qc"] if q["test"] != "mycoplasma"]
    document["donors"][0]["sex"] = "F"
    body = detail(depositor, submit(document).json()["id"]).json()
    assert body["status"] == "invalid"
    assert body["error_count"] >= 2
    by_rule = {f["rule"]: f for f in body["findings"]}
    assert by_rule["SCHEMA"]["location"] == "/donors/0/sex"
    assert "QC-1" in by_rule and "mycoplasma" in by_rule["QC-1"]["message"]
    for finding in body["findings"]:
        assert set(finding) >= {"rule", "severity", "location", "message"}


def test_a_multipart_json_upload_is_accepted_with_its_format_from_the_file_name(
    depositor, django_capture_on_commit_callbacks
):
    upload = io.BytesIO(as_bytes(submission_document(1)))
    upload.name = "deposit.json"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(depositor).post(URL, data={"file": upload}, format="multipart")
    assert response.status_code == 202, response.content
    submission = Submission.objects.get(pk=response.json()["id"])
    assert submission.format == "json" and submission.original_filename == "deposit.json"
    assert submission.status == "valid"


def test_an_xlsx_workbook_and_a_csv_set_are_validated_like_the_json(depositor, django_capture_on_commit_callbacks):
    document = submission_document(2)
    client = client_for(depositor)
    workbook = io.BytesIO(document_to_xlsx(document))
    workbook.name = "deposit.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, data={"file": workbook}, format="multipart")
    assert response.status_code == 202, response.content
    assert detail(depositor, response.json()["id"]).json()["status"] == "valid"
    # The validated document is kept as JSON beside the upload, for review and approval.
    validated = load_document(Submission.objects.get(pk=response.json()["id"]))
    assert [line["local_id"] for line in validated["lines"]] == ["L1", "L2"]
    assert default_storage.exists(Submission.objects.get(pk=response.json()["id"]).document.name + ".parsed.json")

    document["lines"][1]["culture"]["passage_at_banking"] = 0
    csv_set = io.BytesIO(document_to_csv_zip(document))
    csv_set.name = "deposit.zip"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, data={"file": csv_set, "format": "csv"}, format="multipart")
    body = detail(depositor, response.json()["id"]).json()
    assert body["status"] == "invalid"
    finding = next(f for f in body["findings"] if f["rule"] == "LINE-3")
    # Where the depositor edits: sheet, row and column; the pointer stays for scripts.
    assert finding["location"] == "sheet lines, row 3, column culture.passage_at_banking"
    assert finding["pointer"] == "/lines/1/culture/passage_at_banking"
    rows = list(csv.DictReader(io.StringIO(client.get(f"{URL}{body['id']}/report.csv").content.decode())))
    assert any(r["location"] == finding["location"] for r in rows)


def test_the_protocol_can_be_named_by_parameter_when_the_document_does_not(submit):
    document = submission_document(1)
    del document["protocol"]
    refused = submit(document)
    assert refused.status_code == 400
    assert "protocol" in refused.json()["detail"]
    accepted = submit(document, params="?protocol=prism-line-submission/1", run=False)
    assert accepted.status_code == 202


def test_an_unknown_or_contradicting_protocol_version_is_refused_and_nothing_saved(submit):
    unknown = submit(submission_document(1), params="?protocol=prism-line-submission/9")
    assert unknown.status_code == 400
    assert "Unknown protocol version" in unknown.json()["detail"]
    document = submission_document(1)
    document["protocol"] = "prism-line-submission/7"
    assert submit(document).status_code == 400
    assert not Submission.objects.exists()


def test_more_than_10000_lines_are_refused_with_413_and_a_clear_message(submit):
    document = {
        "protocol": "prism-line-submission/1",
        "donors": [],
        "lines": [{"local_id": f"L{i}"} for i in range(10_001)],
    }
    response = submit(document)
    assert response.status_code == 413
    assert "10,001 lines" in response.json()["detail"] and "10,000" in response.json()["detail"]
    assert not Submission.objects.exists()


def test_a_workbook_or_csv_set_over_10000_lines_is_refused_at_once(depositor):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("lines")
    sheet.append(["local_id", "donor"])
    for i in range(10_001):
        sheet.append([f"L{i}", "D1"])
    xlsx = io.BytesIO()
    workbook.save(xlsx)
    csv_set = io.BytesIO()
    with zipfile.ZipFile(csv_set, "w") as archive:
        archive.writestr(
            "lines.csv",
            "local_id,donor\n# help row\n" + "".join(f"L{i},D1\n" for i in range(10_001)),
        )
    for name, content in (("big.xlsx", xlsx.getvalue()), ("big.zip", csv_set.getvalue())):
        upload = io.BytesIO(content)
        upload.name = name
        response = client_for(depositor).post(URL, data={"file": upload}, format="multipart")
        assert response.status_code == 413, name
        assert "10,001 lines" in response.json()["detail"]
    assert not Submission.objects.exists()


def test_a_body_that_is_not_json_is_a_400_saying_where(depositor):
    response = client_for(depositor).post(URL, data=b'{"protocol": ', content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
    assert not Submission.objects.exists()


def test_a_multipart_request_without_a_file_or_a_recognisable_format_is_a_400(depositor):
    client = client_for(depositor)
    assert client.post(URL, data={"format": "json"}, format="multipart").status_code == 400
    upload = io.BytesIO(b"whatever")
    upload.name = "deposit.dat"
    response = client.post(URL, data={"file": upload}, format="multipart")
    assert response.status_code == 400
    assert "format" in response.json()


def test_an_unreadable_upload_is_kept_and_reported_invalid_not_lost(depositor, django_capture_on_commit_callbacks):
    upload = io.BytesIO(b"PK\x03\x04 this is not really a workbook")
    upload.name = "deposit.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(depositor).post(
            URL, data={"file": upload, "protocol": "prism-line-submission/1"}, format="multipart"
        )
    assert response.status_code == 202
    submission = Submission.objects.get(pk=response.json()["id"])
    assert submission.status == "invalid"
    assert submission.error_count >= 1
    assert submission.findings[0]["message"]
    with submission.document.open("rb") as handle:
        assert handle.read().startswith(b"PK\x03\x04 this is not")


def test_intake_enforces_the_protocol_versions_max_lines(depositor, submit):
    """The limit is the named version's `max_lines` setting, not a constant elsewhere."""
    ProtocolVersion.objects.filter(number=1).update(
        settings={**ProtocolVersion.objects.get(number=1).settings, "max_lines": 3}
    )
    response = submit(submission_document(4))
    assert response.status_code == 413, response.content
    assert "4 lines" in response.json()["detail"] and "at most 3" in response.json()["detail"]
    assert not Submission.objects.exists()
    assert submit(submission_document(3)).status_code == 202


def test_the_validation_run_rechecks_the_versions_max_lines(depositor, submit):
    pk = submit(submission_document(4), run=False).json()["id"]
    ProtocolVersion.objects.filter(number=1).update(
        settings={**ProtocolVersion.objects.get(number=1).settings, "max_lines": 3}
    )
    submission = pipeline.run_validation(pk)
    assert submission.status == "invalid"
    assert submission.findings[0]["rule"] == "PIPELINE" and "at most 3" in submission.findings[0]["message"]
