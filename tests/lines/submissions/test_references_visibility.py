"""Validating a document tells a depositor nothing about what another institution holds
unreleased: references resolve only against CellLine.objects.visible_to(depositor)
and the donors of those lines, and an STR-3 match with a hidden line or donor is
reported without its name. The findings with the hidden rows present are exactly
those without them."""

import datetime
import json

import pytest

from core.roles import institution_of
from donors.models import Consent
from lines.models import ProtocolVersion
from lines.str.matching import normalise_profile
from lines.str.store import reindex
from lines.submissions import pipeline
from lines.submissions.rules.str_identity import HIDDEN_MATCH
from lines.submissions.validation import validate_document
from tests.documents import valid_document
from tests.factories import CellLineFactory, DonorFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def validate():
    protocol = ProtocolVersion.objects.get(number=1)

    def run(document, user):
        return validate_document(document, protocol=protocol, institution=institution_of(user), user=user)

    return run


def of_rule(findings, rule):
    return [f for f in findings if f["rule"] == rule]


def test_str_3_does_not_name_another_institutions_unreleased_line(validate, depositor, curator, other_institution):
    document = valid_document(1)
    profile = normalise_profile(document["donors"][0]["str_profile"])
    draft = CellLineFactory(
        donor=DonorFactory(institution=other_institution),
        name="UCSFi900-A",
        status="draft",
        str_profile=profile,
    )
    reindex("line", draft)

    findings = validate(document, depositor)
    assert [f["message"] for f in of_rule(findings, "STR-3")] == [HIDDEN_MATCH]
    assert "UCSFi900-A" not in json.dumps(findings)
    # A curator may see it, and is told which line it is.
    assert "UCSFi900-A" in of_rule(validate(document, curator), "STR-3")[0]["message"]


def test_str_3_does_not_name_a_donor_the_depositor_may_not_see(validate, depositor, other_institution):
    document = valid_document(1)
    donor = DonorFactory(
        institution=other_institution,
        code="UCSF-900",
        str_profile=normalise_profile(document["donors"][0]["str_profile"]),
    )
    CellLineFactory(donor=donor, status="draft")
    reindex("donor", donor)

    findings = validate(document, depositor)
    assert [f["message"] for f in of_rule(findings, "STR-3")] == [HIDDEN_MATCH]
    assert "UCSF-900" not in json.dumps(findings)


def test_str_3_still_names_a_released_line_of_another_institution(validate, depositor, other_institution):
    document = valid_document(1)
    released = CellLineFactory(
        donor=DonorFactory(institution=other_institution),
        name="UCSFi901-A",
        str_profile=normalise_profile(document["donors"][0]["str_profile"]),
    )
    reindex("line", released)
    assert "UCSFi901-A" in of_rule(validate(document, depositor), "STR-3")[0]["message"]


def test_a_hidden_parental_line_reads_as_absent_not_as_a_naming_problem(validate, depositor, other_institution):
    document = valid_document(1)
    document["lines"][0].update(parental_line="UCSFi902-A", modification={"type": "knock_in", "gene": "SOD1"})
    before = validate(document, depositor)
    CellLineFactory(donor=DonorFactory(institution=other_institution), name="UCSFi902-A", status="draft")
    after = validate(document, depositor)
    assert after == before
    assert [f["location"] for f in of_rule(after, "REF-1")] == ["/lines/0/parental_line"]
    assert not of_rule(after, "NAME-4")


def test_a_hidden_line_name_is_not_reported_as_taken(validate, depositor, other_institution):
    document = valid_document(1)
    document["lines"][0]["name"] = "UCSFi903-A"
    before = validate(document, depositor)
    CellLineFactory(donor=DonorFactory(institution=other_institution), name="UCSFi903-A", status="draft")
    assert validate(document, depositor) == before


def test_a_donor_code_of_another_institution_is_not_accepted_nor_its_facts_quoted(
    validate, depositor, other_institution
):
    document = valid_document(1)
    document["donors"] = []
    document["lines"][0]["donor"] = "UCSF-777"
    before = validate(document, depositor)

    donor = DonorFactory(code="UCSF-777", institution=other_institution, sex="male")
    Consent.objects.create(donor=donor, obtained_on=datetime.date(2020, 1, 1), withdrawn_on=datetime.date(2025, 2, 1))
    line = CellLineFactory(donor=donor, status="draft")
    findings = validate(document, depositor)
    assert findings == before
    assert [f["location"] for f in of_rule(findings, "REF-1")] == ["/lines/0/donor"]
    assert "2025-02-01" not in json.dumps(findings) and not of_rule(findings, "CONSENT-2")

    # Once one of its lines is released the donor is public, and a reference to it resolves.
    line.status = "released"
    line.save()
    findings = validate(document, depositor)
    assert not of_rule(findings, "REF-1")
    assert "2025-02-01" in of_rule(findings, "CONSENT-2")[0]["message"]


def test_the_depositors_own_unreleased_lines_still_resolve(validate, depositor, owner_institution):
    donor = DonorFactory(institution=owner_institution, donor_number="005")
    CellLineFactory(donor=donor, name="UKBi005-A", status="draft")
    document = valid_document(1)
    document["lines"][0].update(
        parental_line="UKBi005-A",
        modification={"type": "knock_in", "gene": "SOD1"},
        name="UKBi005-A-1",
    )
    assert not of_rule(validate(document, depositor), "REF-1")


def test_a_donor_of_the_depositors_own_institution_resolves_even_without_lines(
    validate, depositor, other_depositor, owner_institution
):
    DonorFactory(code="UKB-DONOR-9", institution=owner_institution, donor_number="009")
    document = valid_document(1)
    document["donors"] = []
    document["lines"][0]["donor"] = "UKB-DONOR-9"
    assert not of_rule(validate(document, depositor), "REF-1")
    # To another institution's depositor the same code names nothing.
    assert [f["location"] for f in of_rule(validate(document, other_depositor), "REF-1")] == ["/lines/0/donor"]


def test_the_validation_run_resolves_in_the_depositors_view(settings, tmp_path, depositor, other_institution):
    settings.MEDIA_ROOT = tmp_path / "media"
    document = valid_document(1)
    document["donors"] = []
    document["lines"][0]["donor"] = "UCSF-778"
    CellLineFactory(donor=DonorFactory(code="UCSF-778", institution=other_institution), status="draft")
    submission = SubmissionFactory(
        depositor=depositor,
        institution=depositor.profile.institution,
        document__data=json.dumps(document).encode(),
    )
    submission = pipeline.run_validation(submission.pk)
    assert [f["location"] for f in submission.findings if f["rule"] == "REF-1"] == ["/lines/0/donor"]
