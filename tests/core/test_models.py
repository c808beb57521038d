"""The domain model's invariants, history, QC summary and visibility.

Invariants are database constraints, so every bad row below is written past
Django's form validation (plain `.save()` / `.update()`) and must be refused
by the database itself with an IntegrityError, on SQLite and PostgreSQL alike.
"""

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import DataError, IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from core.accounts import create_user_with_role
from core.models import Institution
from distribution.models import DistributionRequest, RequestedLine, Shipment
from donors.models import Consent, Donor, Variant
from lines.models import CellLine, ProtocolVersion, QCRecord, StrIndexEntry, Submission
from lines.qc import CORE_TESTS, summarise_qc_status
from lines.selectors import donors_visible_to
from tests.factories import (
    CellLineFactory,
    ConsentFactory,
    DonorFactory,
    InstitutionFactory,
    QCRecordFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db


def refused(make_bad_row, errors=IntegrityError):
    """The database refuses the row (inside a savepoint, so the test goes on)."""
    with pytest.raises(errors), transaction.atomic():
        make_bad_row()


def update(obj, **fields):
    type(obj).objects.filter(pk=obj.pk).update(**fields)


# --- constraints ---------------------------------------------------------------


@pytest.fixture
def line(owner_institution):
    return CellLineFactory(donor=DonorFactory(institution=owner_institution))


@pytest.fixture
def request_for(researcher):
    def make(**fields):
        return DistributionRequest.objects.create(
            **{
                "requester": researcher,
                "organisation": "Lab",
                "organisation_type": "academic",
                **fields,
            }
        )

    return make


def protocol():
    return ProtocolVersion.objects.order_by("number").first() or ProtocolVersion.objects.create(
        number=99, identifier="test/99"
    )


@pytest.mark.parametrize("code", ["ukb", "U", "TOOLONGX", "UK1", "U-KB"])
def test_an_institution_code_must_be_2_to_6_capital_letters(code):
    # Too long is a DataError on PostgreSQL (varchar(6)); SQLite has no length
    # limit and the format check refuses it.
    refused(
        lambda: Institution.objects.create(code=code, name="x", country="y"),
        (IntegrityError, DataError),
    )


def test_institution_codes_are_unique(owner_institution):
    refused(lambda: Institution.objects.create(code="UKB", name="Another", country="Germany"))


@pytest.mark.parametrize(
    "bad",
    [
        {"sex": "robot"},
        {"ancestry": "Martian"},
        {"family_history": "maybe"},
        {"onset_site": "elbow"},
        {"age_at_sampling": 121},
        {"alsfrs_r": 49},
        {"age_at_sampling": 50, "age_at_onset": 60},
        {"disease": "ALS"},
        {"disease": "MONDO:12"},
    ],
    ids=lambda bad: ",".join(f"{k}={v}" for k, v in bad.items()),
)
def test_a_donor_with_impossible_facts_is_refused(bad):
    donor = DonorFactory()
    refused(lambda: update(donor, **bad))


def test_donor_facts_at_their_limits_are_accepted():
    donor = DonorFactory(age_at_sampling=120, age_at_onset=120, alsfrs_r=48, disease="", disease_label="")
    donor.refresh_from_db()
    assert (donor.alsfrs_r, donor.age_at_onset) == (48, 120)


def test_donor_codes_are_unique():
    DonorFactory(code="PD-1")
    refused(lambda: DonorFactory(code="PD-1"))


def test_a_donor_number_is_unique_within_its_institution_only(owner_institution, other_institution):
    DonorFactory(institution=owner_institution, donor_number="008")
    DonorFactory(institution=other_institution, donor_number="008")
    refused(lambda: DonorFactory(institution=owner_institution, donor_number="008"))


def test_donors_without_a_donor_number_do_not_collide(owner_institution):
    DonorFactory(institution=owner_institution, donor_number="")
    DonorFactory(institution=owner_institution, donor_number="")
    assert Donor.objects.filter(donor_number="").count() == 2


def test_consent_sharing_level_must_be_known():
    consent = ConsentFactory()
    refused(lambda: update(consent, genetic_data="to everyone"))


def test_consent_cannot_be_withdrawn_before_it_was_obtained():
    consent = ConsentFactory(obtained_on=datetime.date(2024, 5, 1))
    refused(lambda: update(consent, withdrawn_on=datetime.date(2024, 4, 30)))
    update(consent, withdrawn_on=datetime.date(2024, 5, 1))


def test_a_donor_has_one_consent_record():
    consent = ConsentFactory()
    refused(lambda: Consent.objects.create(donor=consent.donor))


def test_a_variant_is_on_a_donor_or_a_line_not_neither_nor_both(line):
    refused(lambda: VariantFactory(donor=None, line=None))
    refused(lambda: VariantFactory(donor=line.donor, line=line))
    assert VariantFactory(donor=None, line=line, origin="engineered").line == line


@pytest.mark.parametrize("bad", [{"zygosity": "triploid"}, {"classification": "bad"}])
def test_variant_vocabularies_are_enforced(bad):
    variant = VariantFactory()
    refused(lambda: update(variant, **bad))


def test_line_names_and_cellosaurus_accessions_are_unique(line):
    update(line, cellosaurus_accession="CVCL_8997")
    refused(lambda: CellLineFactory(name=line.name))
    refused(lambda: CellLineFactory(cellosaurus_accession="CVCL_8997"))


def test_lines_without_an_accession_do_not_collide():
    CellLineFactory(cellosaurus_accession=None)
    CellLineFactory(cellosaurus_accession=None)


def test_a_withdrawn_line_needs_a_reason(line):
    refused(lambda: update(line, status="withdrawn", status_reason=""))
    update(line, status="withdrawn", status_reason="donor withdrew consent")
    assert CellLine.objects.get(pk=line.pk).status == "withdrawn"


@pytest.mark.parametrize(
    "bad",
    [
        {"status": "published"},
        {"availability": "for sale"},
        {"modification_type": "crispr"},
        {"reprogramming_method": "magic"},
        {"qc_status": "great"},
        {"passage_at_banking": 0},
        {"passage_at_banking": 201},
    ],
    ids=lambda bad: ",".join(f"{k}={v}" for k, v in bad.items()),
)
def test_line_fields_outside_their_vocabulary_or_range_are_refused(line, bad):
    refused(lambda: update(line, **bad))


def test_a_line_cannot_be_its_own_parent(line):
    refused(lambda: update(line, parental_line=line))
    subclone = CellLineFactory(donor=line.donor, parental_line=line, modification_type="gene_correction")
    assert list(line.subclones.all()) == [subclone]


@pytest.mark.parametrize("bad", [{"test": "vibes"}, {"result": "maybe"}])
def test_qc_records_use_known_tests_and_results(line, bad):
    record = QCRecordFactory(line=line)
    refused(lambda: update(record, **bad))


def make_submission(depositor, **fields):
    return Submission.objects.create(
        depositor=depositor,
        institution=depositor.profile.institution,
        protocol_version=protocol(),
        document="submissions/test.json",
        **fields,
    )


def test_submission_status_rejection_reason_and_progress_are_enforced(depositor):
    submission = make_submission(depositor)
    refused(lambda: update(submission, status="lost"))
    refused(lambda: update(submission, status="rejected", decision_reason=""))
    refused(lambda: update(submission, progress_total=10, progress_done=11))
    update(submission, progress_total=10, progress_done=10)


def test_protocol_versions_are_unique():
    existing = protocol()
    refused(lambda: ProtocolVersion.objects.create(number=existing.number, identifier="other/1"))


def test_the_str_index_keeps_one_entry_per_profile():
    StrIndexEntry.objects.create(kind="line", object_id=1, name="UKBi001-A")
    refused(lambda: StrIndexEntry.objects.create(kind="line", object_id=1, name="UKBi001-A"))
    refused(lambda: StrIndexEntry.objects.create(kind="plasmid", object_id=2, name="x"))


def test_distribution_request_invariants(request_for):
    refused(lambda: request_for(status="lost"))
    refused(lambda: request_for(organisation_type="government"))
    refused(lambda: request_for(status="rejected", decision_reason=""))
    refused(lambda: request_for(on_hold=True, hold_reason=""))
    assert request_for(on_hold=True, hold_reason="consent withdrawn for one line").on_hold


def test_a_line_is_requested_once_per_request_with_at_least_one_vial(request_for, line):
    req = request_for()
    RequestedLine.objects.create(request=req, line=line)
    refused(lambda: RequestedLine.objects.create(request=req, line=line))
    other = CellLineFactory(donor=line.donor)
    refused(lambda: RequestedLine.objects.create(request=req, line=other, vials=0))
    refused(lambda: RequestedLine.objects.create(request=req, line=other, decision="rejected"))


def test_a_shipment_carries_at_least_one_vial(request_for, line, curator):
    req = request_for()
    refused(
        lambda: Shipment.objects.create(
            request=req,
            line=line,
            shipped_on=datetime.date(2025, 1, 1),
            vials=0,
            recorded_by=curator,
        )
    )


# --- history: who, when, what changed ------------------------------------------


class FormFields(HTMLParser):
    """The values a browser would post back from a Django admin change form."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._textarea = {}, None, None

    def add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file", "image"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.add(name, a.get("value", "on"))
            else:
                self.add(name, a.get("value", ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.add(self._select, a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.add(name, "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data


def edit_in_admin(user, obj, **changes):
    """Change `obj` through its admin change form as `user` would, in a real request."""
    client = Client()
    client.force_login(user)
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = FormFields()
    form.feed(page.content.decode())
    data = {k: v for k, v in form.data.items() if k != "csrfmiddlewaretoken"}
    data.update({k: [str(v)] for k, v in changes.items()})
    response = client.post(url, data)
    errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
    assert response.status_code == 302, f"admin refused the edit: {errors}"


@pytest.fixture
def catalog(owner_institution, researcher):
    donor = DonorFactory(institution=owner_institution)
    consent = ConsentFactory(donor=donor)
    line = CellLineFactory(donor=donor)
    record = QCRecordFactory(line=line)
    req = DistributionRequest.objects.create(
        requester=researcher,
        organisation="Lab",
        organisation_type="academic",
        purpose_codes=["DUO:0000042"],
    )
    return {"donor": donor, "consent": consent, "line": line, "qc": record, "request": req}


@pytest.mark.parametrize(
    ("key", "field", "value"),
    [
        ("donor", "age_at_sampling", 61),
        ("consent", "document_reference", "ICF v3.2"),
        ("line", "culture_medium", "StemFlex"),
        ("qc", "testing_lab", "Central QC Lab"),
        ("request", "purpose_summary", "Motor neuron survival assays"),
    ],
)
def test_an_admin_edit_is_kept_in_history_with_who_when_and_what(catalog, curator, key, field, value):
    obj = catalog[key]
    before = datetime.datetime.now(datetime.UTC)

    edit_in_admin(curator, obj, **{field: value})

    latest, previous = obj.history.all()[:2]
    assert latest.history_user == curator
    assert latest.history_type == "~"
    assert latest.history_date >= before
    delta = latest.diff_against(previous)
    changed = {c.field: (c.old, c.new) for c in delta.changes}
    assert field in changed
    assert str(changed[field][1]) == str(value)


def test_creation_and_deletion_are_in_the_history_too(curator):
    variant = VariantFactory()
    variant_id = variant.pk
    variant.delete()

    kinds = list(Variant.history.filter(id=variant_id).values_list("history_type", flat=True))
    assert kinds == ["-", "+"]


def test_a_lines_history_is_shown_in_the_admin(catalog, curator):
    edit_in_admin(curator, catalog["line"], culture_medium="StemFlex")
    client = Client()
    client.force_login(curator)

    html = client.get(reverse("admin:lines_cellline_history", args=[catalog["line"].pk])).content.decode()

    assert "cora" in html and "StemFlex" in html


# --- QC summary -------------------------------------------------------------------


def full_panel(line, result="pass", when=datetime.date(2024, 9, 1), tests=CORE_TESTS):
    return [QCRecord(line=line, test=test, result=result, tested_on=when) for test in tests]


def test_every_core_test_passed_is_passed():
    line = CellLine(reprogramming_method="mrna")
    assert summarise_qc_status(line, full_panel(line)) == "passed"


def test_a_missing_core_test_is_incomplete():
    line = CellLine(reprogramming_method="mrna")
    assert summarise_qc_status(line, full_panel(line)[1:]) == "incomplete"
    assert summarise_qc_status(line, []) == "incomplete"


def test_sendai_and_episomal_lines_also_need_vector_clearance():
    for method in ("sendai", "episomal"):
        line = CellLine(reprogramming_method=method)
        panel = full_panel(line)
        assert summarise_qc_status(line, panel) == "incomplete"
        panel.append(QCRecord(line=line, test="vector_clearance", result="pass"))
        assert summarise_qc_status(line, panel) == "passed"


def test_a_failed_core_test_fails_the_panel_and_inconclusive_leaves_it_incomplete():
    line = CellLine(reprogramming_method="mrna")
    panel = full_panel(line)
    panel[2].result = "fail"
    assert summarise_qc_status(line, panel) == "failed"
    panel[2].result = "inconclusive"
    assert summarise_qc_status(line, panel) == "incomplete"


def test_the_latest_result_of_a_test_counts():
    line = CellLine(reprogramming_method="mrna")
    old_fail = QCRecord(line=line, test="mycoplasma", result="fail", tested_on=datetime.date(2024, 1, 1))
    assert summarise_qc_status(line, [old_fail, *full_panel(line)]) == "passed"
    new_fail = QCRecord(line=line, test="mycoplasma", result="fail", tested_on=datetime.date(2025, 1, 1))
    assert summarise_qc_status(line, [*full_panel(line), new_fail]) == "failed"


def test_refresh_qc_status_stores_the_summary_on_the_line(line):
    update(line, reprogramming_method="mrna")
    line.refresh_from_db()
    for test in CORE_TESTS:
        QCRecordFactory(line=line, test=test, result="pass")

    assert line.refresh_qc_status() == "passed"
    assert CellLine.objects.get(pk=line.pk).qc_status == "passed"
    assert CellLine.objects.filter(qc_status="passed").count() == 1


# --- visibility -------------------------------------------------------------------


@pytest.fixture
def lines_of_two_institutions(owner_institution, other_institution):
    own = DonorFactory(institution=owner_institution)
    other = DonorFactory(institution=other_institution)
    return {
        "own_released": CellLineFactory(donor=own, status="released"),
        "own_draft": CellLineFactory(donor=own, status="draft"),
        "own_submitted": CellLineFactory(donor=own, status="submitted"),
        "own_withdrawn": CellLineFactory(donor=own, status="withdrawn", status_reason="consent withdrawn"),
        "other_released": CellLineFactory(donor=other, status="released"),
        "other_draft": CellLineFactory(donor=other, status="draft"),
    }


def visible(user, lines):
    names = {v.pk: k for k, v in lines.items()}
    return {names[pk] for pk in CellLine.objects.visible_to(user).values_list("pk", flat=True)}


def test_anonymous_visitors_and_researchers_see_released_lines_only(lines_of_two_institutions, researcher):
    for user in (AnonymousUser(), researcher, None):
        assert visible(user, lines_of_two_institutions) == {"own_released", "other_released"}


def test_a_depositor_also_sees_every_line_of_their_own_institution(lines_of_two_institutions, depositor):
    assert visible(depositor, lines_of_two_institutions) == {
        "own_released",
        "own_draft",
        "own_submitted",
        "own_withdrawn",
        "other_released",
    }


def test_another_institutions_depositor_sees_its_own_drafts_not_ours(lines_of_two_institutions, other_depositor):
    assert visible(other_depositor, lines_of_two_institutions) == {
        "own_released",
        "other_released",
        "other_draft",
    }


def test_a_curator_sees_every_line(lines_of_two_institutions, curator):
    assert visible(curator, lines_of_two_institutions) == set(lines_of_two_institutions)


def test_donors_are_visible_through_their_visible_lines(lines_of_two_institutions, researcher, curator):
    hidden = DonorFactory()
    CellLineFactory(donor=hidden, status="draft")

    assert hidden not in donors_visible_to(researcher)
    assert hidden not in donors_visible_to(AnonymousUser())
    assert hidden in donors_visible_to(curator)
    assert donors_visible_to(researcher).count() == 2


def test_submissions_are_seen_by_their_institution_and_curators_only(depositor, other_depositor, researcher, curator):
    submission = make_submission(depositor)

    assert submission in Submission.objects.visible_to(depositor)
    assert submission in Submission.objects.visible_to(curator)
    assert submission not in Submission.objects.visible_to(other_depositor)
    assert not Submission.objects.visible_to(researcher).exists()
    assert not Submission.objects.visible_to(AnonymousUser()).exists()


def test_a_colleague_at_the_same_institution_sees_the_submission(depositor, owner_institution):

    colleague = create_user_with_role("dana", "depositor", institution=owner_institution)[0]
    submission = make_submission(depositor)

    assert submission in Submission.objects.visible_to(colleague)


def test_distribution_requests_are_seen_by_their_requester_and_curators_only(request_for, researcher, curator):

    req = request_for()
    someone_else = create_user_with_role("rob", "researcher")[0]

    assert req in DistributionRequest.objects.visible_to(researcher)
    assert req in DistributionRequest.objects.visible_to(curator)
    assert req not in DistributionRequest.objects.visible_to(someone_else)
    assert not DistributionRequest.objects.visible_to(AnonymousUser()).exists()


def test_factories_make_valid_institutions():
    assert re.fullmatch(r"[A-Z]{2,6}", InstitutionFactory().code)
