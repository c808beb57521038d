"""The distribution workflow through /api/v1/: eligibility, requests, every transition
for every role (anonymous, the requester, another researcher, a depositor, a curator),
illegal transitions (409), notifications after commit, and the OpenAPI schema."""

import datetime

import pytest

from core.accounts import create_user_with_role
from distribution.actions import requests as actions
from distribution.actions.requests import create_request
from distribution.models import DistributionRequest, RequestStatus
from tests.conftest import client_for
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory

pytestmark = pytest.mark.django_db

GRU, HMB, DS, POA = "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000011"
IRB, NCU, GS = "DUO:0000021", "DUO:0000046", "DUO:0000022"
ALS, ALS1, PARKINSON = "MONDO:0004976", "MONDO:0007103", "MONDO:0005180"
TODAY = datetime.date.today()


def line_with(codes, disease="", **kwargs):
    donor = DonorFactory()
    ConsentFactory(donor=donor, codes=codes, disease=disease)
    return CellLineFactory(donor=donor, **kwargs)


@pytest.fixture
def requester(researcher):
    researcher.email = "rita@example.org"
    researcher.save()
    return researcher


@pytest.fixture
def other_researcher(db):
    return create_user_with_role("rob", "researcher", password="pw-rob-123")[0]


@pytest.fixture
def gru_irb_line(db):
    return line_with([GRU, IRB])


@pytest.fixture
def ds_als_line(db):
    return line_with([DS], disease=ALS)


@pytest.fixture
def hmb_line(db):
    return line_with([HMB])


def advance(request, requester, curator, to):
    """Drive a draft request to the state `to` through the model methods."""
    steps = [
        ("submitted", lambda: actions.submit(request, requester, accepted_conditions=request.required_conditions())),
        ("under_review", lambda: actions.start_review(request, curator)),
        ("approved", lambda: actions.approve(request, curator)),
        ("agreement_executed", lambda: actions.record_agreement(request, curator, "MTA-2026-001", TODAY)),
        ("shipped", lambda: actions.ship(request, curator, [
            {"line": item.line, "shipped_on": TODAY, "vials": 1, "batch": "B1", "passage": 18}
            for item in request.items.all()
        ])),
        ("completed", lambda: actions.complete(request, requester)),
    ]
    for state, step in steps:
        if request.status == to:
            break
        step()
        assert request.status == state
    return request


@pytest.fixture
def make_request(requester, curator, gru_irb_line):
    def make(state="draft", on_hold=False):
        request = create_request(requester, [gru_irb_line], purpose_codes=[HMB])
        advance(request, requester, curator, state)
        if on_hold:
            actions.put_on_hold(request, curator, "Consent under review")
        return request

    return make


# --- eligibility endpoint -----------------------------------------------------------


def test_eligibility_answers_per_line_without_creating_anything(requester, gru_irb_line, ds_als_line, hmb_line):
    response = client_for(requester).post(
        "/api/v1/eligibility/",
        {"lines": [gru_irb_line.name, ds_als_line.name, hmb_line.name],
         "purpose": {"codes": [DS], "disease": PARKINSON}, "commercial": False,
         "organisation_type": "academic"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    results = {r["line"]: r for r in response.json()["results"]}
    assert results[gru_irb_line.name]["decision"] == "APPROVE"
    assert results[gru_irb_line.name]["conditions"][0]["code"] == IRB
    assert results[ds_als_line.name]["decision"] == "DENY"
    assert results[ds_als_line.name]["reasons"][0]["code"] == DS
    assert results[hmb_line.name]["decision"] == "APPROVE"
    assert DistributionRequest.objects.count() == 0


def test_eligibility_follows_the_disease_hierarchy(api_client, ds_als_line):
    body = {"lines": [ds_als_line.name], "purpose": {"codes": [DS], "disease": ALS1},
            "commercial": False, "organisation_type": "academic"}
    response = api_client.post("/api/v1/eligibility/", body, format="json")
    assert response.json()["results"][0]["decision"] == "APPROVE"


def test_eligibility_denies_commercial_use_of_non_commercial_consent(api_client):
    line = line_with([GRU, NCU])
    body = {"lines": [line.name], "purpose": {"codes": [HMB], "disease": None},
            "commercial": True, "organisation_type": "commercial"}
    result = api_client.post("/api/v1/eligibility/", body, format="json").json()["results"][0]
    assert result["decision"] == "DENY"
    assert any(r["code"] == NCU for r in result["reasons"])


def test_eligibility_names_unknown_lines_and_codes(requester, hmb_line):
    response = client_for(requester).post(
        "/api/v1/eligibility/",
        {"lines": [hmb_line.name, "NOPEi999-Z"], "purpose": {"codes": [HMB, "DUO:9999999"]},
         "commercial": False, "organisation_type": "academic"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "NOPEi999-Z" in str(body["lines"])
    assert "DUO:9999999" in str(body["purpose.codes"])


def test_eligibility_names_an_unknown_disease(requester, hmb_line):
    response = client_for(requester).post(
        "/api/v1/eligibility/",
        {"lines": [hmb_line.name], "purpose": {"codes": [DS], "disease": "MONDO:0100000"}},
        format="json",
    )
    assert response.status_code == 400
    assert "MONDO:0100000" in str(response.json()["purpose.disease"])


def test_eligibility_treats_lines_the_caller_may_not_see_as_unknown(requester):
    hidden = line_with([GRU], status="submitted")
    response = client_for(requester).post(
        "/api/v1/eligibility/", {"lines": [hidden.name], "purpose": {"codes": [HMB]}}, format="json"
    )
    assert response.status_code == 400
    assert hidden.name in str(response.json()["lines"])


# --- creating requests ------------------------------------------------------------


def create_body(*lines, codes=(HMB,), disease=None, **extra):
    return {"lines": [line.name for line in lines], "purpose": {"codes": list(codes), "disease": disease},
            "commercial": False, **extra}


def test_researcher_creates_a_draft_with_eligibility_per_line(requester, gru_irb_line, ds_als_line):
    response = client_for(requester).post(
        "/api/v1/requests/", create_body(gru_irb_line, ds_als_line, codes=[DS], disease=ALS1,
                                         vials={ds_als_line.name: 2}),
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
        "/api/v1/requests/", create_body(ds_als_line, hmb_line, codes=[DS], disease=PARKINSON), format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert ds_als_line.name in body["problems"]["lines"]
    assert hmb_line.name not in body["problems"]["lines"]
    assert DistributionRequest.objects.count() == 0


def test_unknown_lines_are_named_when_requesting(requester, hmb_line):
    response = client_for(requester).post(
        "/api/v1/requests/", {"lines": [hmb_line.name, "UKBi999-Q"], "purpose": {"codes": [HMB]}}, format="json"
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
        f"/api/v1/requests/{request.pk}/decide-line/", {"line": line.name, "decision": "approved"}, format="json"
    )
    assert response.status_code == 400  # approving an ABSTAIN line needs the curator's reason
    response = client_for(curator).post(
        f"/api/v1/requests/{request.pk}/decide-line/",
        {"line": line.name, "decision": "approved", "reason": "Consent form names the EU; requester in Bonn."},
        format="json",
    )
    assert response.status_code == 200
    assert client_for(curator).post(f"/api/v1/requests/{request.pk}/approve/", {}, format="json").status_code == 200


# --- visibility ------------------------------------------------------------------


def ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


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


# --- every transition for every role ----------------------------------------------

SHIP_BODY = {"shipments": [{"line": "{line}", "shipped_on": TODAY.isoformat(), "vials": 2,
                            "batch": "B-2026-07", "passage": 21}]}

# action, state it starts from, body, expected status per role
TRANSITIONS = [
    ("submit", "draft", {"accepted_conditions": [IRB]},
     {"anonymous": 401, "requester": 200, "other": 404, "depositor": 404, "curator": 403}),
    ("start-review", "submitted", {},
     {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200}),
    ("decide-line", "submitted", {"line": "{line}", "decision": "rejected", "reason": "Stock too low"},
     {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200}),
    ("approve", "under_review", {"reason": "Consent fits"},
     {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200}),
    ("reject", "under_review", {"reason": "Project out of scope"},
     {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200}),
    ("agreement", "approved", {"reference": "MTA-2026-17", "executed_on": TODAY.isoformat()},
     {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200}),
    ("ship", "agreement_executed", SHIP_BODY,
     {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200}),
    ("complete", "shipped", {},
     {"anonymous": 401, "requester": 200, "other": 404, "depositor": 404, "curator": 200}),
    ("cancel", "submitted", {"reason": "No longer needed"},
     {"anonymous": 401, "requester": 200, "other": 404, "depositor": 404, "curator": 200}),
    ("hold", "approved", {"reason": "Consent query"},
     {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200}),
    ("release-hold", "approved+hold", {},
     {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200}),
]

EXPECTED_STATE = {
    "submit": "submitted", "start-review": "under_review", "decide-line": "under_review",
    "approve": "approved", "reject": "rejected", "agreement": "agreement_executed", "ship": "shipped",
    "complete": "completed", "cancel": "cancelled", "hold": "approved", "release-hold": "approved",
}


def fill(body, line_name):
    if isinstance(body, dict):
        return {k: fill(v, line_name) for k, v in body.items()}
    if isinstance(body, list):
        return [fill(v, line_name) for v in body]
    return line_name if body == "{line}" else body


@pytest.mark.parametrize("role", ["anonymous", "requester", "other", "depositor", "curator"])
@pytest.mark.parametrize("action,start,body,expected", TRANSITIONS, ids=[t[0] for t in TRANSITIONS])
def test_every_transition_for_every_role(
    action, start, body, expected, role, make_request, requester, other_researcher, depositor, curator,
    gru_irb_line, django_capture_on_commit_callbacks, mailoutbox,
):
    request = make_request(start.split("+")[0], on_hold=start.endswith("+hold"))
    users = {"anonymous": None, "requester": requester, "other": other_researcher,
             "depositor": depositor, "curator": curator}
    before = (request.status, request.on_hold, request.events.count())
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(users[role]).post(
            f"/api/v1/requests/{request.pk}/{action}/", fill(body, gru_irb_line.name), format="json"
        )
    request.refresh_from_db()
    if expected[role] == 401:
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == expected[role], response.json()
    if response.status_code == 200:
        assert request.status == EXPECTED_STATE[action]
        assert response.json()["status"] == request.status
        event = request.events.last()
        assert event.actor == users[role]
        # the requester hears of every change, after commit
        assert len(mailoutbox) == 1
        assert mailoutbox[0].to == ["rita@example.org"]
        assert f"request {request.pk}" in mailoutbox[0].subject
    else:
        assert (request.status, request.on_hold, request.events.count()) == before
        assert mailoutbox == []


# --- illegal transitions ------------------------------------------------------------

ILLEGAL = [
    ("submit", "submitted", "requester", {}),
    ("start-review", "draft", "curator", {}),
    ("approve", "draft", "curator", {}),
    ("agreement", "under_review", "curator", {"reference": "MTA-1", "executed_on": TODAY.isoformat()}),
    ("ship", "approved", "curator", SHIP_BODY),
    ("complete", "agreement_executed", "requester", {}),
    ("cancel", "shipped", "requester", {}),
    ("reject", "shipped", "curator", {"reason": "Too late"}),
    ("reject", "completed", "curator", {"reason": "Too late"}),
    ("decide-line", "approved", "curator", {"line": "{line}", "decision": "approved", "reason": "x"}),
    ("decide-line", "shipped", "curator", {"line": "{line}", "decision": "rejected", "reason": "x"}),
    ("release-hold", "approved", "curator", {}),
    ("hold", "shipped", "curator", {"reason": "x"}),
]


@pytest.mark.parametrize("action,start,role,body", ILLEGAL, ids=[f"{a}-from-{s}" for a, s, _, _ in ILLEGAL])
def test_illegal_transitions_are_a_clear_409(action, start, role, body, make_request, requester, curator,
                                             gru_irb_line):
    request = make_request(start)
    user = requester if role == "requester" else curator
    response = client_for(user).post(f"/api/v1/requests/{request.pk}/{action}/", fill(body, gru_irb_line.name),
                                     format="json")
    assert response.status_code == 409, response.json()
    assert f"request {request.pk}" in response.json()["detail"]
    request.refresh_from_db()
    assert request.status == start


@pytest.mark.parametrize("action,body", [
    ("submit", {"accepted_conditions": [IRB]}),
    ("approve", {}),
    ("agreement", {"reference": "MTA-1", "executed_on": TODAY.isoformat()}),
])
def test_a_request_on_hold_cannot_move_on(action, body, make_request, requester, curator):
    start = {"submit": "draft", "approve": "under_review", "agreement": "approved"}[action]
    request = make_request(start, on_hold=True)
    user = requester if action == "submit" else curator
    response = client_for(user).post(f"/api/v1/requests/{request.pk}/{action}/", body, format="json")
    assert response.status_code == 409
    assert "on hold" in response.json()["detail"]


def test_a_request_on_hold_can_still_be_rejected(make_request, curator):
    request = make_request("under_review", on_hold=True)
    response = client_for(curator).post(f"/api/v1/requests/{request.pk}/reject/", {"reason": "Consent withdrawn"},
                                        format="json")
    assert response.status_code == 200
    assert response.json()["on_hold"] is False


# --- the details of each step ------------------------------------------------------


def test_submit_needs_every_condition_accepted(make_request, requester):
    request = make_request("draft")
    response = client_for(requester).post(f"/api/v1/requests/{request.pk}/submit/", {"accepted_conditions": []},
                                          format="json")
    assert response.status_code == 400
    assert response.json()["problems"]["accepted_conditions"] == [IRB]
    response = client_for(requester).post(f"/api/v1/requests/{request.pk}/submit/",
                                          {"accepted_conditions": [IRB]}, format="json")
    assert response.status_code == 200
    assert response.json()["accepted_conditions"] == [IRB]


def test_submit_refuses_a_line_whose_consent_changed_since_the_draft(make_request, requester, gru_irb_line):
    request = make_request("draft")
    consent = gru_irb_line.donor.consent
    consent.codes.set([DS])
    consent.disease = ALS
    consent.save()
    response = client_for(requester).post(f"/api/v1/requests/{request.pk}/submit/",
                                          {"accepted_conditions": [IRB]}, format="json")
    assert response.status_code == 400
    assert gru_irb_line.name in response.json()["problems"]["lines"]


def test_a_line_can_be_taken_out_of_an_approved_request_on_hold(make_request, curator, gru_irb_line):
    request = make_request("approved", on_hold=True)
    response = client_for(curator).post(
        f"/api/v1/requests/{request.pk}/decide-line/",
        {"line": gru_irb_line.name, "decision": "rejected", "reason": "Consent withdrawn"}, format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert response.json()["lines"][0]["decision"] == "rejected"


def test_reject_needs_a_reason(make_request, curator):
    request = make_request("under_review")
    response = client_for(curator).post(f"/api/v1/requests/{request.pk}/reject/", {"reason": " "}, format="json")
    assert response.status_code == 400


def test_rejecting_a_line_needs_a_reason(make_request, curator, gru_irb_line):
    request = make_request("under_review")
    response = client_for(curator).post(f"/api/v1/requests/{request.pk}/decide-line/",
                                        {"line": gru_irb_line.name, "decision": "rejected"}, format="json")
    assert response.status_code == 400


def test_approving_with_every_line_rejected_is_refused(make_request, curator, gru_irb_line):
    request = make_request("under_review")
    actions.decide_line(request, curator, gru_irb_line, "rejected", "Stock exhausted")
    response = client_for(curator).post(f"/api/v1/requests/{request.pk}/approve/", {}, format="json")
    assert response.status_code == 400


def test_shipment_records_date_vials_batch_and_passage(make_request, curator, gru_irb_line):
    request = make_request("agreement_executed")
    response = client_for(curator).post(f"/api/v1/requests/{request.pk}/ship/",
                                        fill(SHIP_BODY, gru_irb_line.name), format="json")
    assert response.status_code == 200
    shipment = response.json()["shipments"][0]
    assert shipment == {"line": gru_irb_line.name, "shipped_on": TODAY.isoformat(), "vials": 2,
                        "batch": "B-2026-07", "passage": 21, "courier_reference": "",
                        "received_on": None}


def test_shipment_of_a_line_not_approved_is_refused(make_request, curator):
    request = make_request("agreement_executed")
    other = line_with([GRU])
    response = client_for(curator).post(f"/api/v1/requests/{request.pk}/ship/", fill(SHIP_BODY, other.name),
                                        format="json")
    assert response.status_code == 400
    assert "shipments[0].line" in response.json()["problems"]


def test_agreement_date_in_the_future_is_refused(make_request, curator):
    request = make_request("approved")
    tomorrow = (TODAY + datetime.timedelta(days=2)).isoformat()
    response = client_for(curator).post(f"/api/v1/requests/{request.pk}/agreement/",
                                        {"reference": "MTA-9", "executed_on": tomorrow}, format="json")
    assert response.status_code == 400
    assert "executed_on" in response.json()["problems"]


def test_history_records_who_when_and_why(make_request, requester, curator):
    request = make_request("under_review")
    actions.reject(request, curator, "Project out of scope")
    body = client_for(requester).get(f"/api/v1/requests/{request.pk}/").json()
    assert [e["action"] for e in body["events"]] == ["created", "submitted", "review_started", "rejected"]
    assert body["events"][-1]["actor"] == "cora"
    assert body["events"][-1]["reason"] == "Project out of scope"
    assert body["events"][-1]["from_status"] == "under_review"
    assert request.history.count() >= 3  # simple_history keeps every saved version


def test_no_mail_is_sent_when_the_transaction_rolls_back(make_request, requester, mailoutbox,
                                                         django_capture_on_commit_callbacks):
    request = make_request("draft")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(requester).post(f"/api/v1/requests/{request.pk}/submit/",
                                              {"accepted_conditions": []}, format="json")
    assert response.status_code == 400
    assert callbacks == []
    assert mailoutbox == []


def test_notification_mail_says_what_happened_and_why(make_request, curator, mailoutbox,
                                                      django_capture_on_commit_callbacks):
    request = make_request("under_review")
    with django_capture_on_commit_callbacks(execute=True):
        actions.reject(request, curator, "The project needs fibroblasts, not iPSCs.")
    message = mailoutbox[0]
    assert "Rejected" in message.subject
    assert "The project needs fibroblasts, not iPSCs." in message.body
    assert f"/distribution/requests/{request.pk}/" in message.body


# --- OpenAPI --------------------------------------------------------------------------


def test_distribution_api_is_in_the_openapi_schema(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/eligibility/" in paths
    for action in ["submit", "start-review", "decide-line", "approve", "reject", "agreement", "ship",
                   "complete", "cancel", "hold", "release-hold"]:
        operation = paths[f"/api/v1/requests/{{id}}/{action}/"]["post"]
        assert {"400", "403", "404", "409"} <= set(operation["responses"]), action
    assert "/api/v1/withdrawals/consent/" in paths
    assert RequestStatus.AGREEMENT_EXECUTED in str(paths["/api/v1/requests/"]["get"]["parameters"])


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


def test_curators_change_request_state_only_through_the_workflow_in_admin(make_request, curator):
    from django.test import Client

    request = make_request("submitted")
    client = Client()
    client.force_login(curator)
    page = client.get(f"/admin/distribution/distributionrequest/{request.pk}/change/").content.decode()
    assert page.count('name="status"') == 0  # shown, not editable
    assert "review_started" not in page and "submitted" in page  # the event log inline


# --- races ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_curators_approving_at_once_record_one_approval(requester, curator, gru_irb_line):
    """The row lock in _transition: both read "under review", one approves, the other
    then sees "approved" and is refused (409) instead of approving a second time."""
    import threading

    from django.db import connection

    from distribution.models import IllegalTransition

    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (set DATABASE_URL); SQLite serialises whole transactions")
    second = create_user_with_role("carl", "curator")[0]
    request = create_request(requester, [gru_irb_line], purpose_codes=[HMB])
    actions.submit(request, requester, accepted_conditions=[IRB])
    actions.start_review(request, curator)
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(user):
        from django.db import connections

        try:
            target = DistributionRequest.objects.get(pk=request.pk)
            barrier.wait()
            actions.approve(target, user, f"approved by {user.username}")
            outcomes.append("approved")
        except IllegalTransition:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(user,)) for user in (curator, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    request.refresh_from_db()
    assert sorted(outcomes) == ["approved", "refused"]
    assert request.events.filter(action="approved").count() == 1


def test_options_on_the_request_list_describes_it(requester):
    response = client_for(requester).options("/api/v1/requests/")
    assert response.status_code == 200
    assert "lines" in response.json()["actions"]["POST"]


def test_requester_confirming_receipt_dates_the_shipments(make_request, requester):
    request = make_request("shipped")
    client_for(requester).post(f"/api/v1/requests/{request.pk}/complete/", {}, format="json")
    assert [s.received_on for s in request.shipments.all()] == [TODAY]
