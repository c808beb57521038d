"""/api/v1/submissions/<id>/approve/ and /reject/: curators decide; approval writes the
catalog (names, donors, subclones) or fails cleanly with a finding."""

import io

import pytest

from donors.models import Consent, Donor, Variant
from lines.models import CellLine, QCRecord, Submission
from lines.submissions.formats import document_to_xlsx
from lines.submissions.protocol.example import line as example_line
from tests.conftest import client_for
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory
from tests.submission_helpers import SUBMISSIONS_URL as URL
from tests.submission_helpers import approval_findings, detail, submission_document

pytestmark = pytest.mark.django_db


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


def test_the_same_document_twice_gives_two_submissions_and_never_duplicate_lines(depositor, curator, submit, approve):
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


def test_the_same_content_as_a_workbook_is_recognised_as_already_approved(
    depositor, curator, submit, approve, django_capture_on_commit_callbacks
):
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


def test_a_name_taken_since_validation_makes_the_approval_fail_cleanly(
    depositor, curator, submit, approve, owner_institution
):
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


def test_an_institution_out_of_donor_numbers_gets_a_finding_not_a_crash(
    depositor, curator, submit, approve, owner_institution
):
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
    CellLineFactory(donor=existing, name="UKBi042-A")  # a catalog donor is known by its lines
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
    assert line.donor == existing and line.name.startswith("UKBi042-") and line.name != "UKBi042-A"
    assert line.str_profile and set(profile) - {"Amelogenin"} <= set(line.str_profile)
    assert QCRecord.objects.filter(line=line).exists()


def test_approval_writes_gene_edited_subclones_with_their_parents_and_engineered_variants(
    depositor, curator, submit, approve, owner_institution
):
    document = submission_document(1)
    profile = document["donors"][0]["str_profile"]
    document["lines"].append(
        example_line(
            "L2",
            "D1",
            profile,
            parental_line="L1",
            modification={
                "type": "knock_in",
                "gene": "SOD1",
                "description": "A4V corrected allele",
                "variants": [
                    {
                        "gene": "SOD1",
                        "hgvs": "NM_000454.5:c.14C>T",
                        "protein": "p.Ala5Val",
                        "zygosity": "heterozygous",
                        "classification": "pathogenic",
                    }
                ],
            },
        )
    )
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
    later = {
        "protocol": document["protocol"],
        "donors": [],
        "lines": [
            example_line(
                "E1",
                parent.donor.code,
                profile,
                parental_line=parent.name,
                modification={"type": "knock_out", "gene": "SOD1"},
            )
        ],
    }
    second = submit(later).json()["id"]
    body = detail(depositor, second).json()
    assert body["status"] == "valid", body["findings"]
    assert approve(second).status_code == 202
    grandchild = CellLine.objects.get(submission_id=second)
    assert grandchild.parental_line == parent and grandchild.name == f"{parent.name}-2"
    assert Donor.objects.count() == 1 and CellLine.objects.count() == 3


def test_an_approved_genomic_variant_is_placed_on_its_chromosome(curator, submit, approve):
    document = submission_document(1, donors=1)
    document["donors"][0]["variants"].append(
        {"gene": "SOD1", "hgvs": "NC_000021.9:g.31667281C>T", "zygosity": "heterozygous"}
    )
    pk = submit(document).json()["id"]
    assert approve(pk).status_code == 202
    genomic = Variant.objects.get(hgvs="NC_000021.9:g.31667281C>T")
    assert (genomic.chromosome, genomic.assembly, genomic.position_start) == ("21", "GRCh38", 31667281)
    assert (genomic.reference_bases, genomic.alternate_bases) == ("C", "T")
    assert Variant.objects.get(hgvs="NM_000454.5:c.14C>T").position_start is None
