"""Catalog filters on the clinical course (progression class, King's stage at sampling,
ΔFS range, cognitive status): they match only donors whose course the caller may see."""

import pytest

from tests.conftest import client_for
from tests.factories import CellLineFactory, ConsentFactory, DonorWithCourseFactory, course_block

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines():
    fast = DonorWithCourseFactory(
        course=course_block((6, {"2": 0, "8": 1, "3": 2}), sampling=6, cognitive_status="ALSci")
    )
    slow = DonorWithCourseFactory(course=course_block((24, {"2": 3}), sampling=24, cognitive_status="normal"))
    hidden = DonorWithCourseFactory(course=course_block((6, {"2": 0, "8": 1, "3": 2}), sampling=6))
    ConsentFactory(donor=fast, genetic_data="open")
    ConsentFactory(donor=slow, genetic_data="open")
    ConsentFactory(donor=hidden, genetic_data="controlled")
    return {
        name: CellLineFactory(donor=donor, status="released")
        for name, donor in (("fast", fast), ("slow", slow), ("hidden", hidden))
    }


def names(user, query):
    response = client_for(user).get(f"/api/v1/lines/?{query}")
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("progression_class=fast", {"fast"}),
        ("progression_class=slow", {"slow"}),
        ("kings_stage=2", {"fast"}),  # bulbar and lower limb
        ("delta_fs_min=0.5", {"fast"}),
        ("delta_fs_max=0.5", {"slow"}),
        ("cognitive_status=ALSci", {"fast"}),
    ],
)
def test_clinical_filters_hide_a_course_the_consent_keeps_to_curators(lines, researcher, curator, query, expected):
    by_name = {line.name: key for key, line in lines.items()}
    assert {by_name[n] for n in names(researcher, query) if n in by_name} == expected
    curator_sees = {by_name[n] for n in names(curator, query) if n in by_name}
    assert expected <= curator_sees
    if "fast" in expected and "cognitive" not in query:
        assert "hidden" in curator_sees


def test_a_bad_class_is_a_400_naming_the_parameter(api_client):
    response = api_client.get("/api/v1/lines/?progression_class=rapid")
    assert response.status_code == 400
    assert "progression_class" in response.json()
