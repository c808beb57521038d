"""GET /api/v1/donors/<code>/phenopacket/ for every caller: 404 where the donor is not
visible, 403 where the consent keeps the course, a Phenopacket v2 that parses back
otherwise; and the line page links to it only where it answers."""

import json

import pytest
from django.urls import reverse
from google.protobuf import json_format
from phenopackets import Phenopacket

from tests.conftest import client_for
from tests.factories import CellLineFactory, ConsentFactory, DonorWithCourseFactory

pytestmark = pytest.mark.django_db

CALLERS = ("anonymous", "researcher", "depositor", "other_depositor", "curator")


@pytest.fixture
def users(request):
    return {name: None if name == "anonymous" else request.getfixturevalue(name) for name in CALLERS}


def donor(institution, genetic_data, status="released"):
    d = DonorWithCourseFactory(institution=institution)
    ConsentFactory(donor=d, genetic_data=genetic_data)
    CellLineFactory(donor=d, status=status)
    return d


def status_for(user, code):
    response = client_for(user).get(reverse("api-donor-phenopacket", args=[code]))
    return response.status_code, response


@pytest.mark.parametrize(
    "case,expected",
    [
        (("open", "released"), {c: 200 for c in CALLERS}),
        (("controlled", "released"), {**{c: 403 for c in CALLERS}, "curator": 200}),
        (("none", "released"), {**{c: 403 for c in CALLERS}, "curator": 200}),
        (
            ("open", "submitted"),
            {"anonymous": 404, "researcher": 404, "depositor": 200, "other_depositor": 404, "curator": 200},
        ),
    ],
)
def test_every_caller_gets_what_the_donor_and_consent_allow(case, expected, users, owner_institution):
    d = donor(owner_institution, *case)
    got = {name: status_for(user, d.code)[0] for name, user in users.items()}
    assert got == expected


def test_the_body_is_a_phenopacket_that_parses_back(researcher, owner_institution):
    d = donor(owner_institution, "open")
    status, response = status_for(researcher, d.code)
    assert status == 200
    packet = json_format.Parse(json.dumps(response.json()), Phenopacket())
    assert packet.subject.id == d.code
    assert any(m.assay.id == "PRISM:alsfrs-r-total" for m in packet.measurements)


def test_a_refusal_says_why(researcher, owner_institution):
    d = donor(owner_institution, "controlled")
    _, response = status_for(researcher, d.code)
    assert "consent" in response.json()["detail"]


def test_an_unknown_donor_is_404(researcher):
    assert status_for(researcher, "PD99999")[0] == 404


def test_the_line_page_links_the_phenopacket_only_where_the_course_is_shown(client, researcher, owner_institution):
    shown = donor(owner_institution, "open")
    hidden = donor(owner_institution, "controlled")
    client.force_login(researcher)
    for d, linked in ((shown, True), (hidden, False)):
        line = d.lines.get()
        html = client.get(reverse("line-detail", args=[line.name])).content.decode()
        assert (reverse("api-donor-phenopacket", args=[d.code]) in html) is linked
