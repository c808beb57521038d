"""The details of each step (conditions, reasons, shipments, agreements), the history
and e-mail after commit, the admin, the row lock, and the OpenAPI schema."""

import datetime
import threading

import pytest
from django.db import connection, connections
from django.test import Client

from core.accounts import create_user_with_role
from distribution.actions import requests as actions
from distribution.actions.requests import create_request
from distribution.models import DistributionRequest, IllegalTransition, RequestStatus
from tests.conftest import client_for
from tests.distribution.workflow import (
    ALS,
    DS,
    GRU,
    HMB,
    IRB,
    SHIP_BODY,
    TODAY,
    fill,
    line_with,
)

pytestmark = pytest.mark.django_db


def test_submit_needs_every_condition_accepted(make_request, requester):
    request = make_request("draft")
    response = client_for(requester).post(
        f"/api/v1/requests/{request.pk}/submit/", {"accepted_conditions": []}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["problems"]["accepted_conditions"] == [IRB]
    response = client_for(requester).post(
        f"/api/v1/requests/{request.pk}/submit/", {"accepted_conditions": [IRB]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["accepted_conditions"] == [IRB]


def test_submit_refuses_a_line_whose_consent_changed_since_the_draft(make_request, requester, gru_irb_line):
    request = make_request("draft")
    consent = gru_irb_line.donor.consent
    consent.codes.set([DS])
    consent.disease = ALS
    consent.save()
    response = client_for(requester).post(
        f"/api/v1/requests/{request.pk}/submit/", {"accepted_conditions": [IRB]}, format="json"
    )
    assert response.status_code == 400
    assert gru_irb_line.name in response.json()["problems"]["lines"]


def test_a_line_can_be_taken_out_of_an_approved_request_on_hold(make_request, curator, gru_irb_line):
    request = make_request("approved", on_hold=True)
    response = client_for(curator).post(
        f"/api/v1/requests/{request.pk}/decide-line/",
        {"line": gru_irb_line.name, "decision": "rejected", "reason": "Consent withdrawn"},
        format="json",
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
    response = client_for(curator).post(
        f"/api/v1/requests/{request.pk}/decide-line/",
        {"line": gru_irb_line.name, "decision": "rejected"},
        format="json",
    )
    assert response.status_code == 400


def test_approving_with_every_line_rejected_is_refused(make_request, curator, gru_irb_line):
    request = make_request("under_review")
    actions.decide_line(request, curator, gru_irb_line, "rejected", "Stock exhausted")
    response = client_for(curator).post(f"/api/v1/requests/{request.pk}/approve/", {}, format="json")
    assert response.status_code == 400


def test_shipment_records_date_vials_batch_and_passage(make_request, curator, gru_irb_line):
    request = make_request("agreement_executed")
    response = client_for(curator).post(
        f"/api/v1/requests/{request.pk}/ship/", fill(SHIP_BODY, gru_irb_line.name), format="json"
    )
    assert response.status_code == 200
    shipment = response.json()["shipments"][0]
    assert shipment == {
        "line": gru_irb_line.name,
        "shipped_on": TODAY.isoformat(),
        "vials": 2,
        "batch": "B-2026-07",
        "passage": 21,
        "courier": "",
        "courier_reference": "",
        "received_on": None,
        "vials_shipped": [],  # the line has no lots in stock: nothing was reserved
        "certificates": [],
    }


def test_shipment_of_a_line_not_approved_is_refused(make_request, curator):
    request = make_request("agreement_executed")
    other = line_with([GRU])
    response = client_for(curator).post(
        f"/api/v1/requests/{request.pk}/ship/", fill(SHIP_BODY, other.name), format="json"
    )
    assert response.status_code == 400
    assert "shipments[0].line" in response.json()["problems"]


def test_agreement_date_in_the_future_is_refused(make_request, curator):
    request = make_request("approved")
    tomorrow = (TODAY + datetime.timedelta(days=2)).isoformat()
    response = client_for(curator).post(
        f"/api/v1/requests/{request.pk}/agreement/",
        {"reference": "MTA-9", "executed_on": tomorrow},
        format="json",
    )
    assert response.status_code == 400
    assert "executed_on" in response.json()["problems"]


def test_history_records_who_when_and_why(make_request, requester, curator):
    request = make_request("under_review")
    actions.reject(request, curator, "Project out of scope")
    body = client_for(requester).get(f"/api/v1/requests/{request.pk}/").json()
    assert [e["action"] for e in body["events"]] == [
        "created",
        "submitted",
        "review_started",
        "rejected",
    ]
    assert body["events"][-1]["actor"] == "cora"
    assert body["events"][-1]["reason"] == "Project out of scope"
    assert body["events"][-1]["from_status"] == "under_review"
    assert request.history.count() >= 3  # simple_history keeps every saved version


def test_no_mail_is_sent_when_the_transaction_rolls_back(
    make_request, requester, mailoutbox, django_capture_on_commit_callbacks
):
    request = make_request("draft")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(requester).post(
            f"/api/v1/requests/{request.pk}/submit/", {"accepted_conditions": []}, format="json"
        )
    assert response.status_code == 400
    assert callbacks == []
    assert mailoutbox == []


def test_notification_mail_says_what_happened_and_why(
    make_request, curator, mailoutbox, django_capture_on_commit_callbacks
):
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
    for action in [
        "submit",
        "start-review",
        "decide-line",
        "approve",
        "reject",
        "agreement",
        "ship",
        "complete",
        "cancel",
        "hold",
        "release-hold",
    ]:
        operation = paths[f"/api/v1/requests/{{id}}/{action}/"]["post"]
        assert {"400", "403", "404", "409"} <= set(operation["responses"]), action
    assert "/api/v1/withdrawals/consent/" in paths
    assert RequestStatus.AGREEMENT_EXECUTED in str(paths["/api/v1/requests/"]["get"]["parameters"])


def test_curators_change_request_state_only_through_the_workflow_in_admin(make_request, curator):
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
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (set DATABASE_URL); SQLite serialises whole transactions")
    second = create_user_with_role("carl", "curator")[0]
    request = create_request(requester, [gru_irb_line], purpose_codes=[HMB])
    actions.submit(request, requester, accepted_conditions=[IRB])
    actions.start_review(request, curator)
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(user):
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


def test_requester_confirming_receipt_dates_the_shipments(make_request, requester):
    request = make_request("shipped")
    client_for(requester).post(f"/api/v1/requests/{request.pk}/complete/", {}, format="json")
    assert [s.received_on for s in request.shipments.all()] == [TODAY]
