"""DUO RTN: a request whose shipped lines' consent asks for derived data back cannot be
completed until the recipient deposits a valid dataset on those lines, or a curator
waives the return with a reason (distribution.returns)."""

import pytest
from django.test import Client

from distribution.actions import requests as request_actions
from distribution.models import IllegalTransition, InvalidAction, NotAllowed
from distribution.returns import return_outstanding, waive_return
from tests.conftest import client_for
from tests.results.documents import differentiation_document

pytestmark = pytest.mark.django_db


def test_completion_waits_for_a_dataset_on_the_shipped_rtn_lines(recipient, shipped_lines, deposit):
    request, lines = shipped_lines
    assert "DUO:0000029" in return_outstanding(request)
    with pytest.raises(IllegalTransition, match="derived data"):
        request_actions.complete(request, recipient)
    # A dataset on one of the two RTN lines is not enough.
    deposit(recipient, differentiation_document({lines[0].name: 81.0}))
    request.refresh_from_db()
    assert return_outstanding(request)
    deposit(recipient, differentiation_document({lines[1].name: 77.0, lines[2].name: 90.0}))
    request.refresh_from_db()
    assert return_outstanding(request) is None
    assert request.derived_data_reference.startswith("dataset ")
    request_actions.complete(request, recipient)
    assert request.status == "completed"


def test_an_invalid_deposit_does_not_count(recipient, shipped_lines, deposit):
    request, lines = shipped_lines
    document = differentiation_document({lines[0].name: 81.0, lines[1].name: 140.0})  # 140 % is out of range
    dataset = deposit(recipient, document)
    assert dataset.status == "invalid"
    request.refresh_from_db()
    assert return_outstanding(request)


def test_a_curator_waives_the_return_with_a_reason_and_no_one_else_may(recipient, shipped_lines, curator):
    request, _lines = shipped_lines
    with pytest.raises(NotAllowed):
        waive_return(request, recipient, "I would rather not")
    with pytest.raises(InvalidAction):
        waive_return(request, curator, "  ")
    answer = client_for(curator).post(
        f"/api/v1/requests/{request.pk}/waive-return/", {"reason": "Data returned by e-mail"}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["outstanding"] is None
    request.refresh_from_db()
    assert request.events.filter(action="return_waived", reason="Data returned by e-mail").exists()
    request_actions.complete(request, recipient)
    assert request.status == "completed"


def test_the_waiver_endpoint_refuses_others(recipient, shipped_lines, researcher):
    request, _lines = shipped_lines
    assert (
        client_for(recipient).post(f"/api/v1/requests/{request.pk}/waive-return/", {"reason": "x"}).status_code == 403
    )
    assert (
        client_for(researcher).post(f"/api/v1/requests/{request.pk}/waive-return/", {"reason": "x"}).status_code == 404
    )
    assert client_for(None).post(f"/api/v1/requests/{request.pk}/waive-return/", {"reason": "x"}).status_code == 401


def test_the_request_page_says_what_is_outstanding_and_lets_a_curator_waive_it(recipient, shipped_lines, curator):
    request, _lines = shipped_lines
    mine, theirs = Client(), Client()
    mine.force_login(recipient)
    theirs.force_login(curator)
    page = mine.get(f"/distribution/requests/{request.pk}/").content.decode()
    assert "Derived data to return:" in page and "Deposit a dataset on the shipped lines" in page
    assert "Waive the return" not in page
    page = theirs.get(f"/distribution/requests/{request.pk}/").content.decode()
    assert "Waive the return" in page
    theirs.post(f"/distribution/requests/{request.pk}/waive-return/", {"reason": "Returned as a paper"})
    page = mine.get(f"/distribution/requests/{request.pk}/").content.decode()
    assert "Derived data to return:" not in page and "Returned as a paper" in page
