"""/api/v1/cohorts/: anonymous callers cannot build; a researcher builds, saves (a
stable id, a new version for a changed definition) and sees their own and the
shared cohorts; curators see all; everyone else gets a 404 for a private cohort."""

import pytest

from cohorts.models import Cohort
from tests.cohorts.helpers import definition, three_arm_catalog, usable_line
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
PROPOSALS = "/api/v1/cohorts/proposals/"


def save(user, **body):
    return client_for(user).post(
        "/api/v1/cohorts/", {"name": "screen", "definition": definition(), **body}, format="json"
    )


def test_anonymous_callers_cannot_build_or_save():
    three_arm_catalog()
    assert client_for(None).post(PROPOSALS, definition(), format="json").status_code in (401, 403)
    assert save(None).status_code in (401, 403)
    assert not Cohort.objects.exists()


@pytest.mark.parametrize("caller", ["researcher", "depositor", "other_depositor", "curator"])
def test_a_signed_in_caller_gets_a_proposal(request, caller):
    three_arm_catalog()
    response = client_for(request.getfixturevalue(caller)).post(PROPOSALS, definition(), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [arm["name"] for arm in body["arms"]] == ["C9orf72", "sporadic", "control"]
    assert all(len(arm["members"]) == 3 for arm in body["arms"])
    assert body["balance"] and body["seed"] == 7


def test_an_impossible_cohort_is_a_400_naming_arm_and_constraint(researcher):
    three_arm_catalog()
    too_many = definition()
    too_many["arms"][2]["size"] = 9
    response = client_for(researcher).post(PROPOSALS, too_many, format="json")
    assert response.status_code == 400
    assert response.json()["arm"] == "control" and response.json()["constraint"] == "matching"
    assert "needs 9 lines" in response.json()["detail"]


def test_a_bad_definition_is_a_400_naming_where(researcher):
    bad = definition()
    bad["arms"][0]["filters"] = "sex=robot"
    response = client_for(researcher).post(PROPOSALS, bad, format="json")
    assert response.status_code == 400
    assert "arms[0].filters.sex" in response.json()["problems"]
    assert client_for(researcher).post(PROPOSALS, [1, 2], format="json").status_code == 400


def test_saving_gives_a_stable_id_and_a_new_version_only_for_a_change(researcher):
    three_arm_catalog()
    first = save(researcher)
    assert first.status_code == 201, first.content
    public_id = first.json()["public_id"]
    assert public_id.startswith("COH-") and first.json()["version"] == 1
    assert len(first.json()["members"]) == 9
    again = save(researcher, public_id=public_id)
    assert (again.status_code, again.json()["version"]) == (200, 1)
    changed = definition(seed=99)
    second = save(researcher, public_id=public_id, definition=changed)
    assert (second.status_code, second.json()["version"], second.json()["public_id"]) == (201, 2, public_id)
    assert client_for(researcher).get(f"/api/v1/cohorts/{public_id}/?version=1").json()["seed"] == 7
    assert client_for(researcher).get(f"/api/v1/cohorts/{public_id}/").json()["version"] == 2


def test_another_users_id_cannot_be_versioned(researcher, depositor):
    three_arm_catalog()
    public_id = save(researcher).json()["public_id"]
    assert save(depositor, public_id=public_id).status_code == 404


def test_list_and_detail_follow_visible_cohorts(researcher, depositor, other_depositor, curator):
    three_arm_catalog()
    private = save(researcher).json()["public_id"]
    shared = save(depositor, shared=True, name="shared screen").json()["public_id"]
    expected = {
        None: {shared},
        researcher: {private, shared},
        depositor: {shared},
        other_depositor: {shared},
        curator: {private, shared},
    }
    for user, ids in expected.items():
        client = client_for(user)
        assert {c["public_id"] for c in client.get("/api/v1/cohorts/").json()} == ids, user
        assert client.get(f"/api/v1/cohorts/{private}/").status_code == (200 if private in ids else 404), user
        assert client.get(f"/api/v1/cohorts/{private}/members.csv").status_code == (200 if private in ids else 404)


def test_a_proposal_lists_as_many_exclusions_per_reason_as_asked(researcher):
    three_arm_catalog()
    for _ in range(3):
        usable_line(kind="sporadic", qc_status="failed")
    client = client_for(researcher)
    every = client.post(PROPOSALS, definition(), format="json").json()
    one = client.post(f"{PROPOSALS}?exclusions_per_reason=1", definition(), format="json").json()
    qc = [e["line"] for e in every["exclusions"] if e["arm"] == "sporadic"]
    assert len(qc) == 3
    assert [e["line"] for e in one["exclusions"] if e["arm"] == "sporadic"] == sorted(qc)[:1]
    assert one["arms"][1]["exclusion_counts"] == every["arms"][1]["exclusion_counts"] == {"qc": 3}
    bad = client.post(f"{PROPOSALS}?exclusions_per_reason=many", definition(), format="json")
    assert bad.status_code == 400 and "exclusions_per_reason" in bad.json()
