"""Protocol version 3: a donor's clinical course is validated (COURSE-1 to -4, located
findings) and written with the donor at approval; documents of versions 1 and 2 are
still accepted."""

import json

import pytest

from core.models import PhenotypeTerm
from donors.models import Visit
from lines.models import ProtocolVersion
from lines.submissions.approval import approve_submission
from lines.submissions.protocol.example import valid_document
from lines.submissions.validation import validate_document
from tests.factories import NORMAL_ALSFRS_R, SubmissionFactory, course_block

pytestmark = pytest.mark.django_db


def v3_document(course):
    document = valid_document(1, protocol="prism-line-submission/3")
    document["donors"][0]["course"] = course
    return document


def check(document, institution, number=3):
    return validate_document(document, protocol=ProtocolVersion.objects.get(number=number), institution=institution)


def located(findings, rule):
    return [(f["location"], f["severity"]) for f in findings if f["rule"] == rule]


def test_a_valid_course_passes(owner_institution):
    PhenotypeTerm.objects.create(curie="HP:0002380", label="Fasciculations")
    course = course_block((6, {"2": 3}), (12, {"2": 2}), phenotypic_features=["HP:0002380"], cognitive_status="ALSci")
    assert check(v3_document(course), owner_institution) == []


def test_an_item_out_of_range_and_5a_with_5b_are_located(owner_institution):
    course = course_block((6, {"3": 5}), (9, {"5b": 2}))
    findings = located(check(v3_document(course), owner_institution), "COURSE-1")
    assert ("/donors/0/course/visits/0/alsfrs_r/3", "error") in findings
    assert ("/donors/0/course/visits/1/alsfrs_r/5b", "error") in findings


def test_a_visit_before_onset_or_after_death_is_located(owner_institution):
    course = course_block((-2, {}), (30, {}), events=[("death", 24)])
    assert located(check(v3_document(course), owner_institution), "COURSE-2") == [
        ("/donors/0/course/visits/0", "error"),
        ("/donors/0/course/visits/1", "error"),
    ]
    dated = {"onset_date": "2024-06-01", "visits": [{"date": "2024-01-01", "alsfrs_r": dict(NORMAL_ALSFRS_R)}]}
    assert located(check(v3_document(dated), owner_institution), "COURSE-2") == [("/donors/0/course/visits/0", "error")]


def test_a_typed_stage_the_items_contradict_is_an_error(owner_institution):
    items = {**NORMAL_ALSFRS_R, "5b": 2}
    items.pop("5a")
    course = {"visits": [{"months_from_onset": 12, "alsfrs_r": items, "kings_stage": "1", "mitos_stage": 0}]}
    findings = check(v3_document(course), owner_institution)
    assert located(findings, "COURSE-3") == [("/donors/0/course/visits/0/kings_stage", "error")]
    assert "4A" in next(f["message"] for f in findings if f["rule"] == "COURSE-3")


def test_hpo_terms_are_checked(owner_institution):
    course = course_block((6, {}), phenotypic_features=["fasciculations", "HP:9999999"])
    assert located(check(v3_document(course), owner_institution), "COURSE-4") == [
        ("/donors/0/course/phenotypic_features/0", "error"),
        ("/donors/0/course/phenotypic_features/1", "warning"),
    ]


def test_a_course_in_a_version_2_document_fails_the_schema(owner_institution):
    document = v3_document(course_block((6, {})))
    document["protocol"] = "prism-line-submission/2"
    assert any(f["rule"] == "SCHEMA" for f in check(document, owner_institution, number=2))
    assert check(valid_document(1, protocol="prism-line-submission/2"), owner_institution, number=2) == []


def test_approval_writes_the_course_with_the_donor(owner_institution, curator):
    document = v3_document(course_block((6, {"2": 3}), (18, {"8": 1, "10": 0}), sampling=6))
    submission = SubmissionFactory(
        institution=owner_institution,
        protocol_version=ProtocolVersion.objects.get(number=3),
        document__data=json.dumps(document).encode(),
        status="valid",
    )
    lines = approve_submission(submission, by=curator)
    donor = lines[0].donor
    assert [v.kings_stage for v in Visit.objects.filter(donor=donor)] == ["1", "4B"]
    donor.refresh_from_db()
    assert donor.kings_stage_at_sampling == "1"
