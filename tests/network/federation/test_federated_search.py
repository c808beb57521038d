"""One query to this bank and every peer at once: real PRISM banks on loopback, one
peer that hangs and one that answers garbage. A slow or dead peer never blocks or
breaks the answer, and costs its timeout once per cache period."""

import time

import httpx
import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from network.models import Peer

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def peers(loopback_banks):
    call_command("add_peer", "Bank B", loopback_banks["b"].url)
    call_command("add_peer", "Bank C", loopback_banks["c"].url)
    call_command("add_peer", "Hanging bank", loopback_banks["hang"].url)
    call_command("add_peer", "Garbage bank", loopback_banks["garbage"].url)
    return loopback_banks


def rows(response):
    return {row["bank"]: row for row in response.json()["banks"]}


@override_settings(FEDERATION_TIMEOUT_SECONDS=1.0, PRISM_BANK_NAME="Bank A")
def test_every_bank_answers_in_one_row_and_bad_peers_are_error_rows(bank, peers):
    asked_before = peers["hang"].asked
    started = time.monotonic()
    response = Client().get("/api/v1/network/search/", {"disease": "MONDO:0004976", "sex": "female"})
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    got = rows(response)
    assert got["Bank A"]["local"] and got["Bank A"]["count_range"] == {"from": 1, "to": 4}
    assert got["Bank B"]["exists"] is True and got["Bank B"]["count_range"] == {"from": 1, "to": 4}
    assert got["Bank B"]["catalog_url"] == f"{peers['b'].url}/lines/?disease=MONDO%3A0004976&sex=female"
    assert got["Bank C"]["exists"] is True and got["Bank C"]["count"] is None
    assert got["Hanging bank"]["error"] == "timed out after 1 s"
    assert got["Garbage bank"]["error"] == "answered 200 with something that is not JSON"
    # The banks were asked at once: the answer took the hanging peer's timeout plus the
    # slowest other bank's own time (what each row measured, so a loaded machine widens
    # the bound with it), never the sum of all of them.
    others = max(row["milliseconds"] for name, row in got.items() if name != "Hanging bank") / 1000
    assert elapsed < 1.0 + others + 1.0

    # The catalog link opens Bank B's own page at the same filters.
    page = httpx.get(got["Bank B"]["catalog_url"], timeout=10)
    assert page.status_code == 200 and "UKBi001-A" in page.text and "UKBi004-A" not in page.text

    # "Request these at Bank B" hands the search to Bank B's own basket (sign in there first).
    assert got["Bank A"]["basket_url"] == "/distribution/basket/from-search/?disease=MONDO%3A0004976&sex=female"
    assert got["Bank B"]["basket_url"] == (
        f"{peers['b'].url}/distribution/basket/from-search/?disease=MONDO%3A0004976&sex=female"
    )
    assert got["Hanging bank"]["basket_url"] is None
    handed = httpx.get(got["Bank B"]["basket_url"], timeout=10)
    assert (
        handed.status_code == 302
        and "/accounts/login/?next=/distribution/basket/from-search/" in handed.headers["location"]
    )

    # Within the cache period the dead peer is not asked again, for this query or any other
    # (counted by the peer itself, not by the clock of a loaded machine).
    assert peers["hang"].asked == asked_before + 1
    again = rows(Client().get("/api/v1/network/search/", {"disease": "MONDO:0004976", "sex": "female"}))
    assert again["Hanging bank"]["error"] == "timed out after 1 s"
    other = rows(Client().get("/api/v1/network/search/", {"disease": "MONDO:0004976"}))
    assert other["Hanging bank"]["error"] == "timed out after 1 s"
    assert other["Bank B"]["count"] == 5
    assert peers["hang"].asked == asked_before + 1


@override_settings(FEDERATION_TIMEOUT_SECONDS=1.0)
def test_a_peer_count_at_the_threshold_is_exact(bank, peers):
    Peer.objects.filter(name__in=["Hanging bank", "Garbage bank", "Bank C"]).update(active=False)
    answer = rows(Client().get("/api/v1/network/search/", {"disease": "MONDO:0004976"}))
    assert answer["Bank B"]["count"] == 5


@override_settings(FEDERATION_TIMEOUT_SECONDS=1.0)
def test_a_bank_with_no_match_says_none(bank, peers):
    Peer.objects.filter(name__in=["Hanging bank", "Garbage bank"]).update(active=False)
    answer = rows(Client().get("/api/v1/network/search/", {"disease": "MONDO:0005180"}))
    assert answer["Bank B"]["exists"] is False and answer["Bank B"]["count"] == 0


def test_a_bad_query_is_a_400_naming_it(bank):
    response = Client().get("/api/v1/network/search/", {"sex": "robot"})
    assert response.status_code == 400 and "robot" in response.json()["detail"]
