"""A (federated) search hands its matching lines over to this bank's basket: shown on
GET, added on POST only (a link alone never changes a basket), released lines the
caller may see only; the request is then this bank's own, one for all of them."""

import pytest
from django.test import Client

from distribution.basket import BASKET_KEY
from tests.factories import CellLineFactory, DonorFactory

pytestmark = pytest.mark.django_db

URL = "/distribution/basket/from-search/"


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def lines(owner_institution):
    made = {}
    for n, sex in enumerate(["female", "female", "male"], start=1):
        donor = DonorFactory(institution=owner_institution, sex=sex, code=f"HSD{n:03d}", donor_number=f"{n:03d}")
        made[n] = CellLineFactory(donor=donor, name=f"HSDi{n:03d}-A", status="released")
    made["draft"] = CellLineFactory(donor=made[1].donor, name="HSDi001-B", status="draft")
    return made


def test_the_matching_lines_are_shown_then_added_on_post(researcher, lines):
    client = client_for(researcher)
    page = client.get(URL, {"sex": "female"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "HSDi001-A" in text and "HSDi002-A" in text and "HSDi003-A" not in text
    assert "HSDi001-B" not in text  # a draft line is never handed over
    assert client.session.get(BASKET_KEY, []) == []  # GET changes nothing
    response = client.post(URL, {"sex": "female"})
    assert response.status_code == 302 and response["Location"] == "/distribution/basket/"
    assert client.session[BASKET_KEY] == ["HSDi001-A", "HSDi002-A"]
    basket = client.get("/distribution/basket/").content.decode()
    assert "HSDi001-A" in basket and "HSDi002-A" in basket


def test_lines_already_in_the_basket_are_not_added_twice(researcher, lines):
    client = client_for(researcher)
    client.post("/distribution/basket/add/", {"line": "HSDi002-A"})
    client.post(URL, {"sex": "female"})
    assert client.session[BASKET_KEY] == ["HSDi002-A", "HSDi001-A"]


def test_a_search_this_bank_cannot_read_is_said_not_guessed(researcher, lines):
    response = client_for(researcher).get(URL, {"sex": "unicorn"}, follow=True)
    assert "The search cannot be read here (sex:" in response.content.decode()
    response = client_for(researcher).get(URL, follow=True)
    assert "no filters" in response.content.decode()


def test_anonymous_callers_sign_in_first_and_keep_the_search(client, lines):
    response = client.get(URL, {"sex": "female"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"] and "sex%3Dfemale" in response["Location"]


def test_an_account_that_may_not_request_is_refused(curator, lines):
    assert client_for(curator).get(URL, {"sex": "female"}).status_code == 403
    assert client_for(curator).post(URL, {"sex": "female"}).status_code == 403
