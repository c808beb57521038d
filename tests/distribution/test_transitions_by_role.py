"""Every step of the workflow through /api/v1/requests/{id}/<step>/ for every role
(anonymous, the requester, another researcher, a depositor, a curator), illegal steps
(409), and what a hold blocks."""

import pytest

from tests.conftest import client_for
from tests.distribution.workflow import (
    IRB,
    SHIP_BODY,
    TODAY,
    fill,
)

pytestmark = pytest.mark.django_db


# action, state it starts from, body, expected status per role
TRANSITIONS = [
    (
        "submit",
        "draft",
        {"accepted_conditions": [IRB]},
        {"anonymous": 401, "requester": 200, "other": 404, "depositor": 404, "curator": 403},
    ),
    (
        "start-review",
        "submitted",
        {},
        {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200},
    ),
    (
        "decide-line",
        "submitted",
        {"line": "{line}", "decision": "rejected", "reason": "Stock too low"},
        {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200},
    ),
    (
        "approve",
        "under_review",
        {"reason": "Consent fits"},
        {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200},
    ),
    (
        "reject",
        "under_review",
        {"reason": "Project out of scope"},
        {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200},
    ),
    (
        "agreement",
        "approved",
        {"reference": "MTA-2026-17", "executed_on": TODAY.isoformat()},
        {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200},
    ),
    (
        "ship",
        "agreement_executed",
        SHIP_BODY,
        {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200},
    ),
    (
        "complete",
        "shipped",
        {},
        {"anonymous": 401, "requester": 200, "other": 404, "depositor": 404, "curator": 200},
    ),
    (
        "cancel",
        "submitted",
        {"reason": "No longer needed"},
        {"anonymous": 401, "requester": 200, "other": 404, "depositor": 404, "curator": 200},
    ),
    (
        "hold",
        "approved",
        {"reason": "Consent query"},
        {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200},
    ),
    (
        "release-hold",
        "approved+hold",
        {},
        {"anonymous": 401, "requester": 403, "other": 404, "depositor": 404, "curator": 200},
    ),
]

EXPECTED_STATE = {
    "submit": "submitted",
    "start-review": "under_review",
    "decide-line": "under_review",
    "approve": "approved",
    "reject": "rejected",
    "agreement": "agreement_executed",
    "ship": "shipped",
    "complete": "completed",
    "cancel": "cancelled",
    "hold": "approved",
    "release-hold": "approved",
}


@pytest.mark.parametrize("role", ["anonymous", "requester", "other", "depositor", "curator"])
@pytest.mark.parametrize("action,start,body,expected", TRANSITIONS, ids=[t[0] for t in TRANSITIONS])
def test_every_transition_for_every_role(
    action,
    start,
    body,
    expected,
    role,
    make_request,
    requester,
    other_researcher,
    depositor,
    curator,
    gru_irb_line,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    request = make_request(start.split("+")[0], on_hold=start.endswith("+hold"))
    users = {
        "anonymous": None,
        "requester": requester,
        "other": other_researcher,
        "depositor": depositor,
        "curator": curator,
    }
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
    (
        "agreement",
        "under_review",
        "curator",
        {"reference": "MTA-1", "executed_on": TODAY.isoformat()},
    ),
    ("ship", "approved", "curator", SHIP_BODY),
    ("complete", "agreement_executed", "requester", {}),
    ("cancel", "shipped", "requester", {}),
    ("reject", "shipped", "curator", {"reason": "Too late"}),
    ("reject", "completed", "curator", {"reason": "Too late"}),
    (
        "decide-line",
        "approved",
        "curator",
        {"line": "{line}", "decision": "approved", "reason": "x"},
    ),
    (
        "decide-line",
        "shipped",
        "curator",
        {"line": "{line}", "decision": "rejected", "reason": "x"},
    ),
    ("release-hold", "approved", "curator", {}),
    ("hold", "shipped", "curator", {"reason": "x"}),
]


@pytest.mark.parametrize("action,start,role,body", ILLEGAL, ids=[f"{a}-from-{s}" for a, s, _, _ in ILLEGAL])
def test_illegal_transitions_are_a_clear_409(action, start, role, body, make_request, requester, curator, gru_irb_line):
    request = make_request(start)
    user = requester if role == "requester" else curator
    response = client_for(user).post(
        f"/api/v1/requests/{request.pk}/{action}/", fill(body, gru_irb_line.name), format="json"
    )
    assert response.status_code == 409, response.json()
    assert f"request {request.pk}" in response.json()["detail"]
    request.refresh_from_db()
    assert request.status == start


@pytest.mark.parametrize(
    "action,body",
    [
        ("submit", {"accepted_conditions": [IRB]}),
        ("approve", {}),
        ("agreement", {"reference": "MTA-1", "executed_on": TODAY.isoformat()}),
    ],
)
def test_a_request_on_hold_cannot_move_on(action, body, make_request, requester, curator):
    start = {"submit": "draft", "approve": "under_review", "agreement": "approved"}[action]
    request = make_request(start, on_hold=True)
    user = requester if action == "submit" else curator
    response = client_for(user).post(f"/api/v1/requests/{request.pk}/{action}/", body, format="json")
    assert response.status_code == 409
    assert "on hold" in response.json()["detail"]


def test_a_request_on_hold_can_still_be_rejected(make_request, curator):
    request = make_request("under_review", on_hold=True)
    response = client_for(curator).post(
        f"/api/v1/requests/{request.pk}/reject/", {"reason": "Consent withdrawn"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["on_hold"] is False
