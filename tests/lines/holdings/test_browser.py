"""The main journeys in a real browser (Debian's Chromium through Playwright) against a
live server: a new user finds every SOD1 line with a full passing QC panel that a
company may use; search and filter to a line, open it, compare lines; a curator signs
in and reads the dashboard; the catalog without JavaScript; the pages on a phone.

Screenshots of every page land in test-artifacts/ (kept by CI as artefacts).
`playwright install` cannot download browsers here: the tests drive /usr/bin/chromium
and skip, saying so, where it is missing."""

import json
import os
import re
import time
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from core.accounts import create_user_with_role
from core.roles import ROLES
from core.vocabulary import load_builtin
from demo.catalog import seed_demo
from tests.factories import CellLineFactory, DonorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"  # the repository's, as CI keeps
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module. Playwright's sync API keeps an event loop in this
    thread, which Django's async-safety check would take for async code."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(exist_ok=True)
    playwright = sync_api.sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _data_migrations(transactional_db):
    """A transactional test's flush also empties what data migrations wrote (roles,
    built-in vocabularies): write them again."""

    for role in ROLES:
        Group.objects.get_or_create(name=role)
    load_builtin(apps)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    # Buttons that act for good ask first (data-confirm): the tests answer yes and keep
    # the questions, so a test can check one was asked.
    questions = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.confirmations = questions
    # Pages run under the Content-Security-Policy: a violation fails the test.
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    context.close()
    assert not violations, f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def demo(_data_migrations):

    return seed_demo()


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def shown_total(page):
    return int(page.locator("#results-heading [data-total]").get_attribute("data-total"))


def tick(page, label, param):
    """Tick a sidebar checkbox and wait for htmx to swap the results and push the URL."""
    page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(label)}\b")).check()
    page.wait_for_url(re.compile(rf"[?&]{param}="))
    page.wait_for_load_state("networkidle")


def test_a_new_user_finds_every_sod1_line_with_full_qc_that_a_company_may_use(page, demo, live_server):
    started = time.monotonic()
    page.goto("/")
    shot(page, "home")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog", exact=True).click()
    page.wait_for_url(re.compile(r"/lines/$"))
    everything = shown_total(page)
    page.evaluate("window.__same_page = true")  # gone if a click reloads the page

    tick(page, "SOD1", "gene")
    tick(page, "Full QC panel passed", "qc_passed")
    tick(page, "Commercial use allowed", "commercial_use")
    elapsed = time.monotonic() - started
    shot(page, "catalog-sod1-qc-commercial")

    assert page.evaluate("window.__same_page === true"), "the filters reloaded the page instead of swapping"
    query = dict(re.findall(r"([a-z_]+)=([^&]+)", page.url.split("?", 1)[1]))
    assert query == {"gene": "SOD1", "qc_passed": "true", "commercial_use": "true"}
    total = shown_total(page)
    api = json.loads(page.request.get("/api/v1/lines/export.json?gene=SOD1&qc_passed=true&commercial_use=true").text())
    assert 0 < total == len(api) < everything
    rows = page.locator("table.catalog-table tbody tr")
    assert rows.count() == total
    for index in range(total):
        row = rows.nth(index)
        assert "SOD1" in row.locator("td[data-label='Gene / variant']").inner_text()
        assert row.locator(".badge.passed").count() == 1
        assert "commercial use allowed" in row.inner_text()
    assert sorted(r.locator("th a").inner_text() for r in rows.all()) == sorted(line["name"] for line in api)
    assert "match" in page.locator("#catalog-status").inner_text()  # announced to screen readers
    assert elapsed < 60

    # The address can be shared: opening it fresh shows the same result.
    fresh = page.context.new_page()
    fresh.goto(page.url)
    assert shown_total(fresh) == total
    assert fresh.get_by_label("Commercial use allowed", exact=False).is_checked()
    fresh.close()


def test_search_filter_open_a_line_and_compare_also_on_a_phone(page, demo, live_server):
    page.goto("/lines/")
    page.get_by_label("Search", exact=True).fill("A4V")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"search=A4V"))
    page.wait_for_load_state("networkidle")
    found = shown_total(page)
    assert found > 0
    # By keyboard: Space ticks the focused box; after the swap the focus is still on it.
    female = page.get_by_role("checkbox", name=re.compile(r"^Female\b"))
    female.focus()
    box_id = female.get_attribute("id")
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(r"[?&]sex=female"))
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.activeElement.id") == box_id
    assert 0 < shown_total(page) <= found
    shot(page, "catalog-search-a4v-female")

    # Sort by age, oldest first (two clicks on the column heading).
    page.get_by_role("link", name=re.compile(r"^Age")).click()
    page.wait_for_url(re.compile(r"ordering=age"))
    page.get_by_role("link", name=re.compile(r"^Age")).click()
    page.wait_for_url(re.compile(r"ordering=-age"))
    page.wait_for_load_state("networkidle")
    ages = [int(a) for a in page.locator("td[data-label='Age']").all_inner_texts() if a.strip().isdigit()]
    assert ages == sorted(ages, reverse=True)

    first = page.locator("table.catalog-table tbody th a").first
    name = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(rf"/lines/{re.escape(name)}/$"))
    assert page.get_by_role("heading", level=1).inner_text() == name
    for heading in (
        "Donor and clinical summary",
        "Consent: who may use it",
        "Genotype",
        "Isogenic family",
        "Quality control",
        "STR profile",
    ):
        assert page.get_by_role("heading", name=heading).count() == 1, heading
    assert "A4V" in page.locator("#genotype-heading + *").inner_text()
    shot(page, "line-page")

    # Back to the results, tick two lines and compare them.
    page.go_back()
    page.wait_for_load_state("networkidle")
    boxes = page.locator("table.catalog-table tbody input[name='names']")
    boxes.nth(0).check()
    boxes.nth(1).check()
    picked = [boxes.nth(i).get_attribute("value") for i in (0, 1)]
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_url(re.compile(r"/lines/compare/\?names="))
    headers = page.locator("table.compare-table thead th a").all_inner_texts()
    assert headers == picked
    assert page.get_by_role("rowheader", name="QC status").count() == 1
    shot(page, "compare")

    # The same pages on a phone.
    check_pages_fit_a_phone(page.context.browser, live_server)


def test_a_curator_signs_in_and_reads_the_dashboard(page, live_server):

    create_user_with_role("cora", "curator", password="pw-cora-123")
    CellLineFactory(name="UKBi001-A", qc_status="passed")
    CellLineFactory(name="UKBi002-A", qc_status="incomplete")

    page.goto("/curator/")
    page.wait_for_url(re.compile(r"/accounts/login/\?next=/curator/"))
    shot(page, "login")
    page.get_by_label("Username").fill("cora")
    page.get_by_label("Password").fill("pw-cora-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/curator/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Curator dashboard"
    assert page.locator("[data-stat='qc-share']").inner_text() == "50.0 %"
    nav = page.get_by_role("navigation", name="Main")
    assert nav.locator("[aria-current='page']").inner_text() == "Curator"
    shot(page, "curator-dashboard")
    page.get_by_role("link", name="Open the review queue").click()
    page.wait_for_url(re.compile(r"/submissions/review/$"))

    page.goto("/accounts/token/")
    assert len(page.get_by_label("Your token").input_value()) == 40
    shot(page, "token")


def test_the_catalog_filters_and_reads_without_javascript(browser, live_server):

    CellLineFactory(name="UKBi001-A", donor=DonorFactory(sex="female"))
    CellLineFactory(name="UKBi002-A", donor=DonorFactory(sex="male"))
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    page.goto("/lines/")
    assert shown_total(page) == 2
    page.get_by_role("checkbox", name=re.compile(r"^Male\b")).check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"sex=male"))
    assert shown_total(page) == 1
    assert page.locator("table.catalog-table tbody th a").all_inner_texts() == ["UKBi002-A"]
    page.get_by_role("link", name="UKBi002-A").click()
    assert page.get_by_role("heading", level=1).inner_text() == "UKBi002-A"
    context.close()


def check_pages_fit_a_phone(browser, live_server):
    """Nothing wider than a 375px screen, except inside a deliberately scrolling table."""
    context = browser.new_context(
        viewport={"width": 375, "height": 812},
        base_url=live_server.url,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    for url, name in (
        ("/", "phone-home"),
        ("/lines/?gene=SOD1", "phone-catalog"),
        ("/lines/compare/?names=BNSCi012-A&names=BNSCi012-A-6", "phone-compare"),
    ):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} is {overflow}px wider than a 375px phone"
        shot(page, name)
    name = page.locator("table.compare-table thead th a").first.inner_text()
    page.goto(f"/lines/{name}/")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shot(page, "phone-line-page")
    context.close()
