"""A saved cohort's CSV and plate map: every line once, randomised with a seed the
file states, edge wells left empty unless asked, 96 or 384 wells."""

import csv
import io

import pytest

from cohorts.plates import wells
from tests.cohorts.helpers import definition, three_arm_catalog
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def saved(researcher):
    three_arm_catalog()
    response = client_for(researcher).post(
        "/api/v1/cohorts/", {"name": "screen", "definition": definition()}, format="json"
    )
    return response.json()


def rows(response):
    text = response.content.decode()
    return [line for line in text.splitlines() if line.startswith("#")], list(
        csv.DictReader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#"))))
    )


def test_the_csv_lists_every_member_with_arm_role_and_donor_facts(researcher, saved):
    response = client_for(researcher).get(f"/api/v1/cohorts/{saved['public_id']}/members.csv")
    assert response["Content-Type"].startswith("text/csv")
    _, members = rows(response)
    assert {m["line"] for m in members} == {m["line"] for m in saved["members"]}
    controls = [m for m in members if m["role"] == "control"]
    assert controls and all(m["matched_to"] and m["sex"] and m["age_at_sampling"] for m in controls)


@pytest.mark.parametrize("size", [96, 384])
def test_the_plate_map_avoids_edge_wells_and_states_its_seed(researcher, saved, size):
    url = f"/api/v1/cohorts/{saved['public_id']}/plate-map.csv?wells={size}&edges=avoid"
    preamble, layout = rows(client_for(researcher).get(url))
    assert any("seed 7" in line for line in preamble)
    assert {r["line"] for r in layout} == {m["line"] for m in saved["members"]}
    assert all(r["well"] in wells(size, "avoid") for r in layout)
    last_row, last_column = {96: ("H", "12"), 384: ("P", "24")}[size]
    for r in layout:
        assert r["well"][0] not in ("A", last_row) and r["well"][1:] not in ("1", last_column), r["well"]


def test_the_plate_map_is_the_same_for_the_same_seed_and_differs_for_another(researcher, saved):
    client = client_for(researcher)
    base = f"/api/v1/cohorts/{saved['public_id']}/plate-map.csv"
    first, again = client.get(base).content, client.get(base).content
    assert first == again
    others = {client.get(f"{base}?seed={s}").content for s in range(1, 6)}
    assert len(others) > 1


def test_many_lines_fill_several_plates(researcher, saved):
    _, layout = rows(client_for(researcher).get(f"/api/v1/cohorts/{saved['public_id']}/plate-map.csv?edges=use"))
    assert all(r["plate"] == "1" for r in layout)
    assert len(wells(96, "avoid")) == 60 and len(wells(384, "avoid")) == 308


@pytest.mark.parametrize("query", ["wells=100", "edges=maybe", "wells=abc", "colour=red"])
def test_a_bad_plate_layout_is_a_400(researcher, saved, query):
    response = client_for(researcher).get(f"/api/v1/cohorts/{saved['public_id']}/plate-map.csv?{query}")
    assert response.status_code == 400
