"""The issue's journey in Chromium: a researcher on Bank A's page asks every bank,
sees that Bank B and Bank C (real PRISM servers on loopback) hold matching lines,
per-bank counts with a dead peer shown as an error row, and opens Bank B's catalog
page at the matching filter. Screenshots in test-artifacts/."""

import re

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.lines.holdings import test_browser
from tests.network.conftest import build_bank

browser, page, shot, _data_migrations = (
    test_browser.browser,
    test_browser.page,
    test_browser.shot,
    test_browser._data_migrations,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@override_settings(FEDERATION_TIMEOUT_SECONDS=1.0, PRISM_BANK_NAME="Bank A")
def test_a_researcher_finds_lines_at_two_peers_with_one_down(
    page, live_server, loopback_banks, owner_institution, other_institution, researcher
):
    build_bank(owner_institution, other_institution)
    call_command("add_peer", "Bank B", loopback_banks["b"].url)
    call_command("add_peer", "Bank C", loopback_banks["c"].url)
    call_command("add_peer", "Bank D (down)", loopback_banks["hang"].url)

    page.goto("/accounts/login/?next=/network/")
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill("pw-rita-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/network/$"))
    page.get_by_label("Disease (MONDO id)").fill("MONDO:0004976")
    page.get_by_label("Donor sex").select_option("female")
    shot(page, "network-search-form")
    page.get_by_role("button", name="Ask every bank").click()
    page.wait_for_url(re.compile(r"/network/\?"))
    shot(page, "network-search-answers")

    rows = page.locator("#banks tbody tr")
    assert rows.count() == 4
    mine = page.locator("tr[data-bank='Bank A']")
    assert "3" in mine.locator("td").first.inner_text()  # signed in here: the exact count
    for peer in ("Bank B", "Bank C"):
        row = page.locator(f"tr[data-bank='{peer}']")
        assert row.get_attribute("class") == "bank-hit"
        assert "1–4" in row.inner_text()  # anonymous there: a range, never exact
    assert "timed out after 1 s" in page.locator("tr[data-bank='Bank D (down)']").inner_text()

    page.get_by_role("link", name="Open Bank B's matching lines").click()
    page.wait_for_url(re.compile(re.escape(loopback_banks["b"].url) + r"/lines/\?disease=MONDO%3A0004976&sex=female"))
    shot(page, "network-peer-catalog")
    assert page.get_by_role("link", name="UKBi001-A").count() >= 1
    assert page.get_by_role("link", name="UKBi004-A").count() == 0
