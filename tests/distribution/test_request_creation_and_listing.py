"""Creating requests through /api/v1/requests/ (who may, which lines, which purpose) and
listing them (own requests, or all for curators; filters; cursor pages; OPTIONS)."""

import pytest

from core.accounts import create_user_with_role
from distribution.actions import requests as actions
from distribution.actions.requests import create_request
from distribution.models import DistributionRequest
from tests.conftest import client_for
from tests.distribution.workflow import (
    ALS1,
    DS,
    GRU,
    GS,
    HMB,
    IRB,
    PARKINSON,
    create_body,
    ids,
    line_with,
)

pytestmark = pytest.mark.django_db


def test_researcher_creates_a_draft_with_eligibility_per_line(requester, gru_irb_line, ds_als_line):
    response = client_for(requester).post(
        "/api/v1/requests/",
        create_body(gru_irb_line, ds_als_line, codes=[DS], disease=ALS1, vials={ds_als_line.name: 2}),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["requester"] == "rita"
    lines = {item["line"]: item for item in body["lines"]}
    assert lines[ds_als_line.name]["eligibility"] == "APPROVE"
    assert lines[ds_als_line.name]["vials"] == 2
    assert body["required_conditions"] == [IRB]
    assert body["events"][0]["action"] == "created"


def test_depositor_may_request_lines(depositor, hmb_line):
    response = client_for(depositor).post("/api/v1/requests/", create_body(hmb_line), format="json")
    assert response.status_code == 201


def test_curator_may_not_request_lines(curator, hmb_line):
    response = client_for(curator).post("/api/v1/requests/", create_body(hmb_line), format="json")
    assert response.status_code == 403


def test_anonymous_may_not_request_lines(api_client, hmb_line):
    response = api_client.post("/api/v1/requests/", create_body(hmb_line), format="json")
    assert response.status_code in (401, 403)


def test_denied_lines_cannot_be_requested(requester, ds_als_line, hmb_line):
    response = client_for(requester).post(
        "/api/v1/requests/",
        create_body(ds_als_line, hmb_line, codes=[DS], disease=PARKINSON),
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert ds_als_line.name in body["problems"]["lines"]
    assert hmb_line.name not in body["problems"]["lines"]
    assert DistributionRequest.objects.count() == 0


def test_unknown_lines_are_named_when_requesting(requester, hmb_line):
    response = client_for(requester).post(
        "/api/v1/requests/",
        {"lines": [hmb_line.name, "UKBi999-Q"], "purpose": {"codes": [HMB]}},
        format="json",
    )
    assert response.status_code == 400
    assert "UKBi999-Q" in str(response.json()["lines"])


def test_abstain_line_goes_to_a_curator_with_its_reason(requester, curator):
    line = line_with([GRU, GS])
    request = create_request(requester, [line], purpose_codes=[HMB])
    item = request.items.get()
    assert item.eligibility == "ABSTAIN"
    assert any(r["code"] == GS and "curator" in r["text"] for r in item.eligibility_reasons)
    actions.submit(request, requester, accepted_conditions=[GS])
    actions.start_review(request, curator)
    response = client_for(curator).post(f"/api/v1/requests/{request.pk}/approve/", {}, format="json")
    assert response.status_code == 400
    assert line.name in response.json()["detail"]
    response = client_for(curator).post(
        f"/api/v1/requests/{request.pk}/decide-line/",
        {"line": line.name, "decision": "approved"},
        format="json",
    )
    assert response.status_code == 400  # approving an ABSTAIN line needs the curator's reason
    response = client_for(curator).post(
        f"/api/v1/requests/{request.pk}/decide-line/",
        {
            "line": line.name,
            "decision": "approved",
            "reason": "Consent form names the EU; requester in Bonn.",
        },
        format="json",
    )
    assert response.status_code == 200
    assert client_for(curator).post(f"/api/v1/requests/{request.pk}/approve/", {}, format="json").status_code == 200


# --- visibility ------------------------------------------------------------------


def test_requesters_see_only_their_own_requests_and_curators_see_all(
    make_request, requester, other_researcher, depositor, curator
):
    request = make_request("submitted")
    assert ids(client_for(requester).get("/api/v1/requests/")) == [request.pk]
    assert ids(client_for(other_researcher).get("/api/v1/requests/")) == []
    assert ids(client_for(depositor).get("/api/v1/requests/")) == []
    assert ids(client_for(curator).get("/api/v1/requests/")) == [request.pk]
    assert client_for(other_researcher).get(f"/api/v1/requests/{request.pk}/").status_code == 404
    assert client_for(requester).get(f"/api/v1/requests/{request.pk}/").status_code == 200
    assert client_for(None).get("/api/v1/requests/").status_code == 401


def test_request_list_filters_by_status_and_hold_and_names_bad_parameters(make_request, curator):
    submitted = make_request("submitted")
    held = make_request("draft", on_hold=True)
    api = client_for(curator)
    assert ids(api.get("/api/v1/requests/?status=submitted")) == [submitted.pk]
    assert ids(api.get("/api/v1/requests/?on_hold=true")) == [held.pk]
    assert ids(api.get("/api/v1/requests/?ordering=created_at")) == [submitted.pk, held.pk]
    assert "status" in api.get("/api/v1/requests/?status=nonsense").json()
    assert "on_hold" in api.get("/api/v1/requests/?on_hold=maybe").json()
    assert "colour" in api.get("/api/v1/requests/?colour=red").json()


def test_request_list_pages_by_cursor(make_request, curator):
    made = [make_request("submitted").pk for _ in range(3)]
    api = client_for(curator)
    first = api.get("/api/v1/requests/?page_size=2").json()
    second = api.get(first["next"]).json()
    assert [r["id"] for r in first["results"] + second["results"]] == sorted(made, reverse=True)
    assert second["next"] is None


def test_a_company_cannot_request_as_an_academic(hmb_line):
    company = create_user_with_role("pharma", "researcher", organisation_type="commercial")[0]
    response = client_for(company).post(
        "/api/v1/requests/", create_body(hmb_line, organisation_type="academic"), format="json"
    )
    assert response.status_code == 400
    assert "organisation_type" in response.json()["problems"]
    response = client_for(company).post("/api/v1/requests/", create_body(hmb_line), format="json")
    assert response.status_code == 201
    assert response.json()["organisation_type"] == "commercial"


def test_options_on_the_request_list_describes_it(requester):
    response = client_for(requester).options("/api/v1/requests/")
    assert response.status_code == 200
    assert "lines" in response.json()["actions"]["POST"]
