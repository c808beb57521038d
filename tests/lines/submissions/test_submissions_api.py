"""/api/v1/submissions/: deposit, follow, report, approve, reject — and who may do what.

Tasks run eagerly here (no broker), queued on commit: the tests run the commit
callbacks with django_capture_on_commit_callbacks(execute=True), as a real commit would."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from donors.models import Consent, Donor, Variant
from lines.models import CellLine, QCRecord, Submission
from lines.submissions import pipeline as submissions
from lines.submissions import writer as approval
from lines.submissions.formats import document_to_csv_zip, document_to_xlsx
from tests.conftest import client_for
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory
from tests.submission_helpers import as_bytes, eager_celery, submission_document

pytestmark = pytest.mark.django_db

URL = "/api/v1/submissions/"


@pytest.fixture
def submit(depositor, django_capture_on_commit_callbacks):
    """POST a JSON document as the depositor and run the queued validation."""

    def _submit(document, user=None, *, params="", run=True):
        client = client_for(user or depositor)
        with django_capture_on_commit_callbacks(execute=run):
            response = client.post(URL + params, data=json.dumps(document), content_type="application/json")
        return response

    return _submit


@pytest.fixture
def approve(curator, django_capture_on_commit_callbacks):
    """POST approve as the curator and (run=True) run the queued approval after the
    answer, as a worker would."""

    def _approve(pk, user=None, *, run=True):
        with django_capture_on_commit_callbacks(execute=run):
            response = client_for(user or curator).post(f"{URL}{pk}/approve/")
        return response

    return _approve


def approval_findings(user, pk):
    body = detail(user, pk).json()
    return body["status"], [f for f in body["findings"] if f.get("at_approval")]


def detail(user, pk):
    return client_for(user).get(f"{URL}{pk}/")


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


def test_a_multipart_json_upload_is_accepted_with_its_format_from_the_file_name(depositor, django_capture_on_commit_callbacks):
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
    validated = submissions.load_document(Submission.objects.get(pk=response.json()["id"]))
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
    document = {"protocol": "prism-line-submission/1", "donors": [],
                "lines": [{"local_id": f"L{i}"} for i in range(10_001)]}
    response = submit(document)
    assert response.status_code == 413
    assert "10,001 lines" in response.json()["detail"] and "10,000" in response.json()["detail"]
    assert not Submission.objects.exists()


def test_a_workbook_or_csv_set_over_10000_lines_is_refused_at_once(depositor):
    import zipfile

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("lines")
    sheet.append(["local_id", "donor"])
    for i in range(10_001):
        sheet.append([f"L{i}", "D1"])
    xlsx = io.BytesIO()
    workbook.save(xlsx)
    csv_set = io.BytesIO()
    with zipfile.ZipFile(csv_set, "w") as archive:
        archive.writestr("lines.csv", "local_id,donor\n# help row\n" + "".join(f"L{i},D1\n" for i in range(10_001)))
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


# --- who sees what -------------------------------------------------------------
def test_depositors_see_only_their_institutions_submissions_curators_see_all(
    depositor, other_depositor, curator, submit
):
    mine = submit(submission_document(1), run=False).json()["id"]
    theirs = submit(submission_document(1, seed=5), user=other_depositor, run=False).json()["id"]
    assert [s["id"] for s in client_for(depositor).get(URL).json()["results"]] == [mine]
    assert client_for(depositor).get(URL + "?page_size=1").json()["next"] is None
    assert [s["id"] for s in client_for(other_depositor).get(URL).json()["results"]] == [theirs]
    assert {s["id"] for s in client_for(curator).get(URL).json()["results"]} == {mine, theirs}
    assert detail(other_depositor, mine).status_code == 404
    assert client_for(other_depositor).get(f"{URL}{mine}/report.json").status_code == 404
    assert detail(curator, mine).status_code == 200


def test_researchers_and_anonymous_callers_see_no_submissions_and_cannot_submit(
    researcher, submit, depositor
):
    pk = submit(submission_document(1), run=False).json()["id"]
    for user, refused in ((researcher, 403), (None, 401)):
        client = client_for(user)
        assert client.get(URL).status_code == refused
        assert client.get(f"{URL}{pk}/").status_code == refused
        assert client.get(f"{URL}{pk}/report.csv").status_code == refused
        assert client.post(URL, data=json.dumps(submission_document(1)),
                           content_type="application/json").status_code == refused
    assert Submission.objects.count() == 1


def test_the_list_filters_by_status_and_refuses_an_unknown_one(depositor, submit):
    submit(submission_document(1))
    client = client_for(depositor)
    assert len(client.get(URL + "?status=valid").json()["results"]) == 1
    assert client.get(URL + "?status=invalid").json()["results"] == []
    refused = client.get(URL + "?status=nonsense")
    assert refused.status_code == 400 and "status" in refused.json()
    assert client.get(URL + "?stauts=valid").status_code == 400  # a typo is not silently ignored


# --- report -----------------------------------------------------------------------
def test_the_report_downloads_as_json_and_csv(depositor, submit):
    document = submission_document(1)
    document["lines"][0]["culture"]["passage_at_banking"] = 0
    pk = submit(document).json()["id"]
    client = client_for(depositor)
    as_json = client.get(f"{URL}{pk}/report.json")
    assert as_json.status_code == 200
    findings = as_json.json()
    assert any(f["rule"] == "LINE-3" for f in findings)
    assert client.get(f"{URL}{pk}/report/?format=json").json() == findings

    for url in (f"{URL}{pk}/report.csv", f"{URL}{pk}/report/?format=csv"):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert len(rows) == len(findings)
        assert {"rule", "severity", "location", "message", "line"} <= set(rows[0])
        assert any(r["rule"] == "LINE-3" and r["line"] == "L1" for r in rows)
    assert client.get(f"{URL}{pk}/report.xml").status_code == 404


# --- approve / reject -----------------------------------------------------------------
def test_a_curator_approves_a_valid_submission_and_the_catalog_gets_its_rows(depositor, curator, submit, approve):
    document = submission_document(3, donors=2)
    pk = submit(document).json()["id"]
    response = approve(pk)
    # The decision is recorded and answered at once; the lines are written by the worker.
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "approving" and body["decided_by"] == "cora" and body["decided_at"]
    assert response["Location"] == body["url"] and body["url"].endswith(f"{URL}{pk}/")
    assert body["lines"] == []
    body = detail(depositor, pk).json()
    assert body["status"] == "approved" and body["decided_by"] == "cora"
    assert len(body["lines"]) == 3

    lines = CellLine.objects.filter(submission_id=pk).order_by("name")
    assert lines.count() == 3
    assert Donor.objects.count() == 2 and Consent.objects.count() == 2
    for line in lines:
        # Assigned hPSCreg names of the depositing institution.
        assert line.name.startswith("UKBi") and line.status == "released" and line.released_at
        assert line.qc_status == "passed" and line.availability == "available"
        assert line.str_profile and line.institution.code == "UKB"
        assert line.qc_records.count() == len(document["lines"][0]["qc"])
    donor = lines[0].donor
    assert list(donor.consent.codes.values_list("curie", flat=True)) == document["donors"][0]["consent"]["codes"]
    assert Variant.objects.filter(donor=donor, gene="SOD1").exists()
    # Lines of one donor share its donor number.
    assert len({line.name[:7] for line in lines if line.donor_id == donor.pk}) == 1
    submission = Submission.objects.get(pk=pk)
    assert submission.decided_by == curator and submission.decided_at


def test_only_curators_approve_or_reject(depositor, other_depositor, researcher, submit):
    pk = submit(submission_document(1)).json()["id"]
    for user in (depositor, other_depositor, researcher):
        assert client_for(user).post(f"{URL}{pk}/approve/").status_code == 403
        assert client_for(user).post(f"{URL}{pk}/reject/", {"reason": "no"}).status_code == 403
    assert client_for(None).post(f"{URL}{pk}/approve/").status_code == 401
    assert Submission.objects.get(pk=pk).status == "valid"
    assert not CellLine.objects.exists()


def test_approving_anything_but_a_valid_submission_is_a_409_saying_why(depositor, curator, submit, approve):
    invalid = submission_document(1)
    invalid["lines"][0]["qc"] = []
    pk = submit(invalid).json()["id"]
    response = client_for(curator).post(f"{URL}{pk}/approve/")
    assert response.status_code == 409
    assert "errors" in response.json()["detail"]
    assert response.json()["status"] == "invalid"

    pending = submit(submission_document(1, seed=2), run=False).json()["id"]
    response = client_for(curator).post(f"{URL}{pending}/approve/")
    assert response.status_code == 409 and "not been validated" in response.json()["detail"]

    valid = submit(submission_document(1, seed=3)).json()["id"]
    assert approve(valid).status_code == 202
    again = client_for(curator).post(f"{URL}{valid}/approve/")
    assert again.status_code == 409 and "already approved" in again.json()["detail"]
    assert CellLine.objects.count() == 1
    assert client_for(curator).post(f"{URL}999999/approve/").status_code == 404


def test_a_rejection_needs_a_reason_and_keeps_the_document_and_report(depositor, curator, submit, approve):
    pk = submit(submission_document(1)).json()["id"]
    client = client_for(curator)
    missing = client.post(f"{URL}{pk}/reject/", {"reason": "  "}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    response = client.post(f"{URL}{pk}/reject/", {"reason": "QC certificates are missing."}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["decision_reason"] == "QC certificates are missing."
    submission = Submission.objects.get(pk=pk)
    assert submission.document and submission.decided_by == curator
    # A decided submission cannot be decided again.
    assert client.post(f"{URL}{pk}/approve/").status_code == 409
    assert client.post(f"{URL}{pk}/reject/", {"reason": "again"}, format="json").status_code == 409
    assert detail(depositor, pk).json()["decision_reason"] == "QC certificates are missing."


def test_the_same_document_twice_gives_two_submissions_and_never_duplicate_lines(depositor, curator, submit,
                                                                                   approve):
    document = submission_document(2, donors=2)
    first = submit(document).json()["id"]
    second = submit(document).json()["id"]
    assert first != second
    assert Submission.objects.filter(status="valid").count() == 2
    assert approve(first).status_code == 202
    # The worker's re-check finds the document approved already: nothing written.
    assert approve(second).status_code == 202
    assert CellLine.objects.count() == 2 and Donor.objects.count() == 2
    # The depositor reads why in the second submission's report.
    status, findings = approval_findings(depositor, second)
    assert status == "invalid" and findings
    assert any(str(first) in f["message"] for f in findings)
    # Not decided after all: the curator's approval is undone with it.
    assert detail(depositor, second).json()["decided_by"] is None


def test_the_same_content_as_a_workbook_is_recognised_as_already_approved(depositor, curator, submit, approve,
                                                                          django_capture_on_commit_callbacks):
    document = submission_document(1)
    first = submit(document).json()["id"]
    assert approve(first).status_code == 202
    workbook = io.BytesIO(document_to_xlsx(document))
    workbook.name = "again.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        second = client_for(depositor).post(URL, data={"file": workbook}, format="multipart").json()["id"]
    # One content, one digest, whatever the format.
    assert Submission.objects.get(pk=second).document_sha256 == Submission.objects.get(pk=first).document_sha256
    # Validation already sees the catalog's copy (STR-3), and the approval re-check would too.
    response = approve(second)
    assert response.status_code == 409
    assert CellLine.objects.count() == 1


def test_a_name_taken_since_validation_makes_the_approval_fail_cleanly(depositor, curator, submit, approve,
                                                                      owner_institution):
    document = submission_document(1)
    document["lines"][0]["name"] = "UKBi900-A"
    pk = submit(document).json()["id"]
    # Someone else's approval (or an import) takes the name after validation.
    CellLineFactory(name="UKBi900-A", donor=DonorFactory(institution=owner_institution, donor_number="900"))
    assert approve(pk).status_code == 202
    status, findings = approval_findings(depositor, pk)
    assert status == "invalid"
    assert [f["rule"] for f in findings] == ["NAME-3"]
    assert findings[0]["location"] == "/lines/0/name"
    assert CellLine.objects.count() == 1


def test_an_institution_out_of_donor_numbers_gets_a_finding_not_a_crash(depositor, curator, submit, approve,
                                                                        owner_institution):
    pk = submit(submission_document(1)).json()["id"]
    Donor.objects.bulk_create(
        Donor(code=f"UKB-{n:03d}", institution=owner_institution, donor_number=f"{n:03d}") for n in range(1, 1000)
    )
    assert approve(pk).status_code == 202
    status, findings = approval_findings(depositor, pk)
    assert status == "invalid" and "donor number" in findings[0]["message"]
    assert not CellLine.objects.exists()


def test_a_line_of_a_donor_already_in_the_catalog_gets_a_new_line_not_a_new_donor(
    depositor, curator, submit, approve, owner_institution
):
    existing = DonorFactory(institution=owner_institution, donor_number="042", code="UKB-042")
    ConsentFactory(donor=existing, obtained_on="2024-01-01")
    base = submission_document(1)
    profile = base["donors"][0]["str_profile"]
    existing.viral_screening = base["donors"][0]["viral_screening"]
    existing.save()
    document = {"protocol": base["protocol"], "donors": [], "lines": base["lines"]}
    document["lines"][0]["donor"] = "UKB-042"
    pk = submit(document).json()["id"]
    body = detail(depositor, pk).json()
    assert body["status"] == "valid", body["findings"]
    assert approve(pk).status_code == 202
    assert Donor.objects.count() == 1
    line = CellLine.objects.get(submission_id=pk)
    assert line.donor == existing and line.name.startswith("UKBi042-")
    assert line.str_profile and set(profile) - {"Amelogenin"} <= set(line.str_profile)
    assert QCRecord.objects.filter(line=line).exists()


def test_approval_writes_gene_edited_subclones_with_their_parents_and_engineered_variants(
    depositor, curator, submit, approve, owner_institution
):
    from lines.submissions.protocol.example import line as example_line

    document = submission_document(1)
    profile = document["donors"][0]["str_profile"]
    document["lines"].append(example_line(
        "L2", "D1", profile, parental_line="L1",
        modification={"type": "knock_in", "gene": "SOD1", "description": "A4V corrected allele",
                      "variants": [{"gene": "SOD1", "hgvs": "NM_000454.5:c.14C>T", "protein": "p.Ala5Val",
                                    "zygosity": "heterozygous", "classification": "pathogenic"}]},
    ))
    pk = submit(document).json()["id"]
    body = detail(depositor, pk).json()
    assert body["status"] == "valid", body["findings"]
    assert approve(pk).status_code == 202

    parent = CellLine.objects.get(submission_id=pk, parental_line__isnull=True)
    child = CellLine.objects.get(submission_id=pk, parental_line__isnull=False)
    assert child.parental_line == parent and child.donor == parent.donor
    assert child.name == f"{parent.name}-1"  # hPSCreg: subclone = parent + -<n>
    assert child.modification_type == "knock_in" and "A4V corrected allele" in child.modification_description
    engineered = Variant.objects.get(line=child)
    assert engineered.origin == "engineered" and engineered.protein == "p.Ala5Val"
    # The donor's germline variant stays on the donor, not duplicated on lines.
    assert Variant.objects.filter(donor=parent.donor, origin="germline").count() == 1

    # A later submission edits the catalog line: its parent is named, not re-created.
    later = {"protocol": document["protocol"], "donors": [], "lines": [example_line(
        "E1", parent.donor.code, profile, parental_line=parent.name,
        modification={"type": "knock_out", "gene": "SOD1"},
    )]}
    second = submit(later).json()["id"]
    body = detail(depositor, second).json()
    assert body["status"] == "valid", body["findings"]
    assert approve(second).status_code == 202
    grandchild = CellLine.objects.get(submission_id=second)
    assert grandchild.parental_line == parent and grandchild.name == f"{parent.name}-2"
    assert Donor.objects.count() == 1 and CellLine.objects.count() == 3


# --- approval in the worker ---------------------------------------------------------
def test_a_second_approval_while_one_is_in_progress_is_a_409_and_the_worker_writes_once(
    depositor, curator, submit, approve
):
    pk = submit(submission_document(2)).json()["id"]
    first = approve(pk, run=False)  # queued; no worker has taken it yet
    assert first.status_code == 202 and first.json()["status"] == "approving"
    assert not CellLine.objects.exists()
    # The depositor sees that the approval is in progress.
    assert detail(depositor, pk).json()["status"] == "approving"

    again = approve(pk)
    assert again.status_code == 409 and "in progress" in again.json()["detail"]
    assert again.json()["status"] == "approving"
    rejected = client_for(curator).post(f"{URL}{pk}/reject/", {"reason": "changed my mind"}, format="json")
    assert rejected.status_code == 409

    # The worker: the first delivery writes the lines, a redelivery does nothing.
    assert len(approval.run_approval(pk)) == 2
    assert approval.run_approval(pk) is None
    assert CellLine.objects.filter(submission_id=pk).count() == 2
    body = detail(depositor, pk).json()
    assert body["status"] == "approved" and body["decided_by"] == "cora" and len(body["lines"]) == 2


def test_a_worker_holding_the_approval_claim_keeps_a_redelivery_out(depositor, submit, approve):
    pk = submit(submission_document(1)).json()["id"]
    approve(pk, run=False)
    submission = Submission.objects.get(pk=pk)
    assert submission.claim_for_approval()
    assert approval.run_approval(pk) is None  # the first run is alive: hands off
    assert Submission.objects.get(pk=pk).status == "approving"
    assert not CellLine.objects.exists()


def test_beat_requeues_a_stuck_approval_and_hands_back_a_hopeless_one(depositor, curator, submit, approve):
    crashed = submit(submission_document(1)).json()["id"]
    hopeless = submit(submission_document(1, seed=9)).json()["id"]
    fresh = submit(submission_document(1, seed=8)).json()["id"]
    for pk in (crashed, hopeless, fresh):
        assert approve(pk, run=False).status_code == 202
    # A worker took `crashed` and died mid-write: its one transaction rolled back,
    # so only the claim is left.
    assert Submission.objects.get(pk=crashed).claim_for_approval()
    old = timezone.now() - timedelta(hours=1)
    Submission.objects.filter(pk__in=[crashed, hopeless]).update(updated_at=old, approval_started_at=old)
    Submission.objects.filter(pk=hopeless).update(approval_attempts=submissions.MAX_ATTEMPTS)

    assert approval.requeue_stale_approvals() == [crashed]
    taken_over = Submission.objects.get(pk=crashed)
    assert taken_over.status == "approved" and taken_over.approval_attempts == 2  # eager: ran at once
    assert taken_over.decided_by == curator
    assert CellLine.objects.filter(submission_id=crashed).count() == 1
    assert Submission.objects.get(pk=fresh).status == "approving"  # not stale yet
    handed_back = Submission.objects.get(pk=hopeless)
    assert handed_back.status == "valid" and handed_back.decided_by is None
    assert not CellLine.objects.filter(submission_id__in=[hopeless, fresh]).exists()


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_a_small_approval_is_done_when_the_answer_comes(depositor, curator):
    """`make run` (SQLite, eager Celery): the task runs on commit, in the request."""
    client = client_for(depositor)
    pk = client.post(URL, data=json.dumps(submission_document(2)), content_type="application/json").json()["id"]
    assert detail(depositor, pk).json()["status"] == "valid"
    response = client_for(curator).post(f"{URL}{pk}/approve/")
    assert response.status_code == 202
    assert response.json()["status"] == "approved" and len(response.json()["lines"]) == 2
    assert CellLine.objects.filter(submission_id=pk, status="released").count() == 2


# --- the pipeline pieces without HTTP -----------------------------------------------
def test_a_second_validation_run_of_a_claimed_submission_does_nothing(depositor, submit):
    pk = submit(submission_document(1), run=False).json()["id"]
    submission = Submission.objects.get(pk=pk)
    assert submission.claim_for_validation()
    # A redelivered message while the first run is alive: the claim fails, nothing changes.
    assert submissions.run_validation(pk) is None
    submission.refresh_from_db()
    assert submission.status == "validating" and submission.attempts == 1
    # Once the run has gone quiet past the time-out, another run may take over.
    Submission.objects.filter(pk=pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert submissions.run_validation(pk) is not None
    submission.refresh_from_db()
    assert submission.status == "valid" and submission.attempts == 2


def test_validation_of_a_deleted_submission_returns_quietly(db):
    assert submissions.run_validation(123456) is None


def test_beat_requeues_stale_submissions_and_gives_up_after_too_many_attempts(
    depositor, submit, django_capture_on_commit_callbacks
):
    stuck = submit(submission_document(1), run=False).json()["id"]
    hopeless = submit(submission_document(1, seed=9), run=False).json()["id"]
    fresh = submit(submission_document(1, seed=8), run=False).json()["id"]
    old = timezone.now() - timedelta(hours=1)
    Submission.objects.filter(pk__in=[stuck, hopeless]).update(updated_at=old)
    Submission.objects.filter(pk=hopeless).update(status="validating", attempts=submissions.MAX_ATTEMPTS)

    queued = submissions.requeue_stale_submissions()
    assert queued == [stuck]
    assert Submission.objects.get(pk=stuck).status == "valid"  # eager: ran at once
    assert Submission.objects.get(pk=fresh).status == "received"  # not stale yet
    gave_up = Submission.objects.get(pk=hopeless)
    assert gave_up.status == "invalid"
    assert gave_up.findings[0]["rule"] == "PIPELINE" and "kept" in gave_up.findings[0]["message"]


def test_a_submission_whose_report_was_stored_is_not_overwritten_by_a_late_run(depositor, submit):
    pk = submit(submission_document(1)).json()["id"]
    submission = Submission.objects.get(pk=pk)
    stale_copy = Submission.objects.get(pk=pk)
    stale_copy.status, stale_copy.attempts = "validating", 0
    assert stale_copy.record_findings([{"rule": "QC-1", "severity": "error"}]) is False
    submission.refresh_from_db()
    assert submission.status == "valid" and submission.findings == []


# --- OpenAPI ------------------------------------------------------------------------
def test_every_submission_endpoint_is_in_the_openapi_schema_with_its_errors(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    create = paths["/api/v1/submissions/"]["post"]
    assert {"202", "400", "403", "413"} <= set(create["responses"])
    assert "multipart/form-data" in create["requestBody"]["content"]
    assert {"200", "403", "404"} <= set(paths["/api/v1/submissions/{id}/"]["get"]["responses"])
    approve = paths["/api/v1/submissions/{id}/approve/"]["post"]
    assert {"202", "403", "404", "409"} <= set(approve["responses"])
    assert "approving" in approve["description"]
    reject = paths["/api/v1/submissions/{id}/reject/"]["post"]
    assert {"200", "403", "404", "409"} <= set(reject["responses"])
    status_enum = schema["components"]["schemas"]["SubmissionDetail"]["properties"]["status"]
    assert "approving" in json.dumps(status_enum) or "approving" in json.dumps(schema["components"]["schemas"])
    assert "400" in paths["/api/v1/submissions/{id}/reject/"]["post"]["responses"]
    report = paths["/api/v1/submissions/{id}/report/"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= set(report)


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _eager():
    """These tests run validation in-process even where CELERY_BROKER_URL is set (CI):
    the real-worker behaviour is tests/lines/submissions/test_submission_worker.py's."""
    with eager_celery():
        yield


@pytest.mark.django_db(transaction=True)
def test_a_running_validation_keeps_its_heartbeat_while_the_validator_is_silent(settings, tmp_path):
    """Reading a large workbook gives no progress for a long time; the run must still
    not look stale to the beat re-queue. (Rows built by hand: a transactional test
    cannot count on the roles the data migrations wrote.)"""
    import time as clock

    from django.contrib.auth import get_user_model

    from lines.models import ProtocolVersion
    from lines.submissions.protocol import V1_IDENTIFIER, schema_for
    from tests.factories import InstitutionFactory

    settings.SUBMISSION_STALE_AFTER = timedelta(seconds=1.5)
    version, _ = ProtocolVersion.objects.get_or_create(
        number=1, defaults={"identifier": V1_IDENTIFIER, "schema": schema_for(1)}
    )
    submission = Submission.objects.create(
        depositor=get_user_model().objects.create(username="heart"), institution=InstitutionFactory(),
        protocol_version=version, document="submissions/x.json", status="validating", attempts=1,
    )
    long_ago = timezone.now() - timedelta(hours=1)
    Submission.objects.filter(pk=submission.pk).update(updated_at=long_ago)

    with submissions._Heartbeat(submission):
        clock.sleep(1.3)
        beating = Submission.objects.get(pk=submission.pk).updated_at
        assert beating > long_ago + timedelta(minutes=59)
        assert not submissions.stale_submissions().filter(pk=submission.pk).exists()
    clock.sleep(0.8)
    assert Submission.objects.get(pk=submission.pk).updated_at >= beating
    stopped = Submission.objects.get(pk=submission.pk).updated_at
    clock.sleep(0.8)
    assert Submission.objects.get(pk=submission.pk).updated_at == stopped  # no beats after the run
