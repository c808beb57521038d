"""A saved cohort as a zip of phenopackets: one per member donor, disclosure per caller,
a manifest saying what is withheld; GET /api/v1/cohorts/<id>/phenopackets.zip for every
caller (404 where the cohort is not visible)."""

import io
import json
import zipfile

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from google.protobuf import json_format
from phenopackets import Phenopacket

from cohorts.models import CohortMember
from cohorts.phenopackets import cohort_phenopackets_zip
from tests.conftest import client_for
from tests.factories import CellLineFactory, CohortFactory, ConsentFactory, DonorWithCourseFactory

pytestmark = pytest.mark.django_db


def line_of(genetic_data, status="released"):
    donor = DonorWithCourseFactory()
    ConsentFactory(donor=donor, genetic_data=genetic_data)
    return CellLineFactory(donor=donor, status=status)


@pytest.fixture
def cohort(researcher):
    open_a, open_b, controlled, draft = (
        line_of("open"),
        line_of("open"),
        line_of("controlled"),
        line_of("open", "draft"),
    )
    sibling = CellLineFactory(donor=open_a.donor, name=f"{open_a.name}X")
    cohort = CohortFactory(owner=researcher, shared=False)
    for position, (line, arm, role) in enumerate(
        [
            (open_a, "C9orf72", "case"),
            (sibling, "C9orf72", "isogenic"),
            (open_b, "control", "control"),
            (controlled, "sporadic", "case"),
            (draft, "sporadic", "case"),
        ]
    ):
        CohortMember.objects.create(cohort=cohort, line=line, arm=arm, role=role, position=position)
    cohort.lines = {"open_a": open_a, "open_b": open_b, "controlled": controlled, "draft": draft}
    return cohort


def read(data):
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: json.loads(archive.read(name)) for name in archive.namelist()}


def test_one_phenopacket_per_member_donor_each_parsing_back(cohort, researcher):
    files = read(cohort_phenopackets_zip(cohort, researcher))
    a, b = cohort.lines["open_a"].donor.code, cohort.lines["open_b"].donor.code
    assert sorted(files) == sorted(["cohort.json", f"{a}.json", f"{b}.json"])
    for code in (a, b):
        packet = json_format.Parse(json.dumps(files[f"{code}.json"]), Phenopacket())
        assert packet.subject.id == code and packet.measurements


def test_the_manifest_says_what_is_withheld_and_why(cohort, researcher):
    manifest = read(cohort_phenopackets_zip(cohort, researcher))["cohort.json"]
    assert manifest["cohort"] == cohort.label
    assert [w["donor"] for w in manifest["withheld"]] == [cohort.lines["controlled"].donor.code]
    assert "consent" in manifest["withheld"][0]["reason"]
    assert manifest["members_not_visible"] == 1  # the draft line
    assert [m["role"] for m in manifest["members"]] == ["case", "isogenic", "control", "case"]


def test_a_curator_gets_every_donor(cohort, curator):
    files = read(cohort_phenopackets_zip(cohort, curator))
    assert len(files) == 1 + 4 and read(cohort_phenopackets_zip(cohort, curator))["cohort.json"]["withheld"] == []


@pytest.mark.parametrize(
    "caller,expected",
    [("anonymous", 404), ("researcher", 200), ("depositor", 404), ("other_depositor", 404), ("curator", 200)],
)
def test_the_endpoint_answers_who_may_see_the_cohort(caller, expected, cohort, request):
    user = None if caller == "anonymous" else request.getfixturevalue(caller)
    response = client_for(user).get(reverse("api-cohort-phenopackets", args=[cohort.public_id]))
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == "application/zip"
        assert "cohort.json" in read(response.content)


def test_a_shared_cohort_is_open_to_anyone_with_the_same_disclosure(cohort):
    cohort.shared = True
    cohort.save()
    response = client_for(None).get(reverse("api-cohort-phenopackets", args=[cohort.public_id]))
    assert response.status_code == 200
    assert len(read(response.content)["cohort.json"]["withheld"]) == 1
    assert read(cohort_phenopackets_zip(cohort, AnonymousUser()))["cohort.json"]["withheld"]


def test_versions_and_bad_parameters(cohort, researcher):
    client = client_for(researcher)
    url = reverse("api-cohort-phenopackets", args=[cohort.public_id])
    assert client.get(url, {"version": 1}).status_code == 200
    assert client.get(url, {"version": 2}).status_code == 404
    assert "version" in client.get(url, {"version": "x"}).json()
    assert "colour" in client.get(url, {"colour": "red"}).json()
