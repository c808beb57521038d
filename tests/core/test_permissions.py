"""The curator-only pages answer alike (core/permissions.py): an anonymous caller
goes to the login page, a researcher or depositor is refused with a sentence saying
whom the page is for, a curator gets the page."""

import pytest
from django.test import Client

from tests.factories import LotFactory

pytestmark = pytest.mark.django_db

PAGES = ["/stock/", "/submissions/review/", "/stock/lots/0/"]


def _client(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("url", PAGES)
def test_an_anonymous_caller_is_sent_to_log_in(url):
    response = _client().get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("url", PAGES[:2])
@pytest.mark.parametrize("role", ["researcher", "depositor"])
def test_other_roles_are_refused_and_curators_let_in(url, role, request, curator):
    assert _client(request.getfixturevalue(role)).get(url).status_code == 403
    assert _client(curator).get(url).status_code == 200


def test_a_depositor_cannot_recall_a_lot(depositor):
    lot = LotFactory()
    response = _client(depositor).post(f"/stock/lots/{lot.pk}/recall/", {"reason": "mycoplasma"})
    assert response.status_code == 403
    lot.refresh_from_db()
    assert lot.status == "pending"
