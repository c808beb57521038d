"""The pages, htmx and the Swagger/Redoc pages work under the Content-Security-Policy
(django-csp): a real Chromium loads them and any CSP violation in its console (or a
script error) fails the test. There was no CSP at all.

Skips, saying why, where Debian's chromium or playwright is missing."""

import re

import pytest

from core.accounts import create_user_with_role
from tests.factories import CellLineFactory
from tests.lines.holdings import test_browser

# One Chromium, launched with the flags this machine needs, and the data-migration rows:
# the main browser tests' fixtures.
browser, _data_migrations = test_browser.browser, test_browser._data_migrations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def csp_problems(page):
    """Collects what the console says about the policy, and uncaught script errors."""
    problems = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    return problems


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.problems = csp_problems(page)
    yield page
    context.close()


def test_the_catalog_pages_and_htmx_work_under_the_policy(page, owner_institution):
    CellLineFactory(name="UKBi001-A")
    response = page.goto("/lines/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    # htmx is there and swaps the results in place.
    assert page.evaluate("typeof window.htmx") == "object"
    page.evaluate("window.__same_page = true")
    page.get_by_role("checkbox").first.check()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__same_page") is True
    page.goto("/")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(test_browser.ARTIFACTS / "csp-home.png"), full_page=True)
    assert page.problems == []


def test_the_token_page_and_the_submission_filter_work_without_inline_handlers(page, owner_institution):
    create_user_with_role("dora", "depositor", institution=owner_institution, password="pw-dora-123")
    page.goto("/accounts/login/")
    page.fill("#id_username", "dora")
    page.fill("#id_password", "pw-dora-123")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/accounts/token/")
    page.focus("#token-key")
    assert page.evaluate("document.activeElement.selectionEnd - document.activeElement.selectionStart") > 20
    page.goto("/submissions/")
    page.select_option("#status-filter", "invalid")
    page.wait_for_url(re.compile(r"status=invalid"))
    assert page.problems == []


@pytest.mark.parametrize(
    "url, rendered",
    [("/api/docs/", ".swagger-ui .opblock"), ("/api/redoc/", "redoc-container [role=search], #redoc-container h1")],
)
def test_swagger_and_redoc_work_under_the_policy(page, url, rendered):
    page.goto(url)
    page.wait_for_selector(rendered, timeout=60_000)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(test_browser.ARTIFACTS / f"csp-{url.strip('/').replace('/', '-')}.png"))
    assert page.problems == []
