"""One table of steps (distribution/transitions.py) serves the API and the pages: the
request page offers a step exactly when the workflow would take it from that person
in that state, and every step of the table has its page action and its endpoint."""

import pytest
from django.db import transaction
from django.test import Client

from distribution import views
from distribution.actions import requests as actions
from distribution.api.transitions import ENDPOINTS
from distribution.models import IllegalTransition, InvalidAction, NotAllowed, RequestEvent
from distribution.transitions import TRANSITIONS, offered
from tests.distribution.workflow import IRB, TODAY
from tests.factories import DistributionRequestFactory

pytestmark = pytest.mark.django_db

STATES = [
    "draft",
    "submitted",
    "under_review",
    "approved",
    "agreement_executed",
    "shipped",
    "completed",
    "rejected",
    "cancelled",
]
REASON = "Checked with the depositor"
# Each step with an input it accepts wherever the state and the person allow it.
STEPS = {
    "submit": lambda r, u, line: actions.submit(r, u, accepted_conditions=[IRB]),
    "start-review": lambda r, u, line: actions.start_review(r, u),
    "approve-line": lambda r, u, line: actions.decide_line(r, u, line, "approved", REASON),
    "reject-line": lambda r, u, line: actions.decide_line(r, u, line, "rejected", REASON),
    "approve": lambda r, u, line: actions.approve(r, u, REASON),
    "reject": lambda r, u, line: actions.reject(r, u, REASON),
    "agreement": lambda r, u, line: actions.record_agreement(r, u, "MTA-T1", TODAY),
    "ship": lambda r, u, line: actions.ship(r, u, [{"line": line, "shipped_on": TODAY, "vials": 1}]),
    "complete": lambda r, u, line: actions.complete(r, u, REASON),
    "cancel": lambda r, u, line: actions.cancel(r, u, REASON),
    "hold": lambda r, u, line: actions.put_on_hold(r, u, REASON),
    "release-hold": lambda r, u, line: actions.release_hold(r, u, REASON),
}


class Rollback(Exception):
    pass


def taken(name, request_obj, user, line_name):
    """Whether the workflow takes the step (a 400 for this input still means the table allows it)."""
    try:
        with transaction.atomic():
            STEPS[name](request_obj, user, line_name)
            raise Rollback
    except Rollback:
        return True
    except (NotAllowed, IllegalTransition):
        return False
    except InvalidAction:
        return True
    finally:
        request_obj.refresh_from_db()


def request_in(state, requester, curator, line):
    if state in ("rejected", "cancelled"):
        request = DistributionRequestFactory(requester=requester, curator=curator, lines=[line], status="under_review")
        STEPS["reject" if state == "rejected" else "cancel"](request, curator, line.name)
        return request
    return DistributionRequestFactory(requester=requester, curator=curator, lines=[line], status=state)


@pytest.mark.parametrize("on_hold", [False, True], ids=["free", "on-hold"])
@pytest.mark.parametrize("state", STATES)
def test_the_page_offers_exactly_the_steps_the_workflow_takes(
    state, on_hold, requester, other_researcher, curator, gru_irb_line
):
    request = request_in(state, requester, curator, gru_irb_line)
    if on_hold and request.is_open:
        actions.put_on_hold(request, curator, "Consent query")
    events = RequestEvent.objects.filter(request=request).count()
    for user in (requester, other_researcher, curator):
        shown = offered(request, user)
        for name in TRANSITIONS:
            assert (name in shown) == taken(name, request, user, gru_irb_line.name), (
                state,
                user.username,
                name,
            )
    assert RequestEvent.objects.filter(request=request).count() == events


def test_every_step_has_its_page_action_and_its_endpoint():
    assert set(views.ACTIONS) == set(TRANSITIONS) == set(STEPS)
    line_steps = {"approve-line", "reject-line"}
    assert {e.name for e in ENDPOINTS} == (set(TRANSITIONS) - line_steps) | {"decide-line"}


def test_the_request_page_shows_the_buttons_of_the_table(requester, curator, gru_irb_line):
    request = DistributionRequestFactory(requester=requester, curator=curator, lines=[gru_irb_line], status="approved")
    actions.put_on_hold(request, curator, "Consent query")
    client = Client()
    client.force_login(curator)
    page = client.get(f"/distribution/requests/{request.pk}/").content.decode()
    assert "Release hold" in page and "Put on hold</button>" not in page
    assert "Record executed agreement" not in page  # blocked by the hold
    assert "Reject line" in page and "Approve line" not in page  # a line can be taken out, not added
    client.force_login(requester)
    page = client.get(f"/distribution/requests/{request.pk}/").content.decode()
    assert "Cancel request" in page and "Release hold" not in page


def test_the_factory_moves_a_request_through_the_actions(requester, gru_irb_line):
    request = DistributionRequestFactory(
        requester=requester, lines=[gru_irb_line], status="completed", accepted_conditions=[IRB]
    )
    assert [e.action for e in request.events.all()] == [
        "created",
        "submitted",
        "review_started",
        "approved",
        "agreement_executed",
        "shipped",
        "completed",
    ]
    assert request.shipments.get().received_on == TODAY
