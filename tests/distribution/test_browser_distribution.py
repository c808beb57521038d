"""Distribution in a real browser (Debian's Chromium through Playwright) against a live
server: a researcher goes from a catalog search to a submitted request, and a curator
from the request queue to a shipped request. tests/distribution/test_distribution_pages.py walks the
same journeys with Django's test client; here the real forms, buttons and redirects are
clicked. The browser, page and screenshot helpers are those of tests/lines/holdings/test_browser.py;
the rows data migrations wrote (roles, DUO terms, protocol) are put back after each
flush by the autouse fixture in tests/conftest.py."""

import datetime
import re

import pytest

from distribution.actions import requests as actions
from distribution.actions.requests import create_request
from distribution.models import DistributionRequest, Shipment
from lines.models import CellLine
from lines.search_text import refresh_search_text
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory
from tests.lines.holdings import test_browser

# The fixtures and helpers of the main browser tests, reused.
browser, page, shot, shown_total = (
    test_browser.browser,
    test_browser.page,
    test_browser.shot,
    test_browser.shown_total,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GRU, HMB, IRB, GS = "DUO:0000042", "DUO:0000006", "DUO:0000021", "DUO:0000022"


def line_with(codes, **kwargs):
    donor = DonorFactory()
    ConsentFactory(donor=donor, codes=codes)
    line = CellLineFactory(donor=donor, **kwargs)
    refresh_search_text(
        CellLine.objects.filter(pk=line.pk)
    )  # what the submission approval does, so that search finds it
    return line


def sign_in(page, username, password, start):
    page.goto(f"/accounts/login/?next={start}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(rf"{re.escape(start)}$"))


def status_heading(page):
    return page.get_by_role("heading", level=1).inner_text()


def test_a_researcher_goes_from_a_catalog_search_to_a_submitted_request(page, researcher):
    wanted = line_with([GRU, IRB])
    other = line_with([GRU])

    sign_in(page, "rita", "pw-rita-123", "/lines/")
    assert shown_total(page) == 2

    # Search the catalog down to the one line and open it.
    page.get_by_label("Search", exact=True).fill(wanted.name)
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(rf"search={re.escape(wanted.name)}"))
    page.wait_for_load_state("networkidle")
    assert shown_total(page) == 1
    assert page.locator("table.catalog-table tbody th a").all_inner_texts() == [wanted.name]
    shot(page, "distribution-catalog-search")
    page.get_by_role("link", name=wanted.name, exact=True).click()
    page.wait_for_url(re.compile(rf"/lines/{re.escape(wanted.name)}/$"))
    assert status_heading(page) == wanted.name

    # Request it: the line goes into the basket and the page says so.
    page.get_by_role("button", name="Request this line").click()
    page.wait_for_url(re.compile(rf"/lines/{re.escape(wanted.name)}/$"))
    assert f"{wanted.name} added to your basket." in page.locator(".messages").inner_text()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Basket").click()
    page.wait_for_url(re.compile(r"/distribution/basket/$"))
    assert status_heading(page) == "Your basket"
    assert page.get_by_role("link", name=wanted.name).count() == 1
    assert page.get_by_role("link", name=other.name).count() == 0

    # State the purpose (health/medical research, DUO HMB) and check eligibility line by line.
    page.get_by_label(re.compile(re.escape(f"{HMB})"))).check()
    page.get_by_label("Project summary").fill("Motor neuron survival assays")
    page.get_by_label(f"Vials of {wanted.name}").fill("3")
    with page.expect_navigation():
        page.get_by_role("button", name="Check eligibility").click()
    # The check is a POST: no CSRF token in the address, and the typed vial count stays.
    assert "csrfmiddlewaretoken" not in page.url
    assert page.get_by_label(f"Vials of {wanted.name}").input_value() == "3"
    row = page.locator("#purpose-form table tbody tr").filter(has_text=wanted.name)
    assert row.locator("td[data-label='Consent allows?'] .badge").inner_text() == "Allowed"
    assert "general research use" in row.inner_text()
    assert page.get_by_role("heading", name="Conditions of the donors' consent").count() == 1
    condition = page.get_by_label(re.compile(r"^Ethics approval required"))
    assert f"({IRB}" in page.locator(f"label[for='{condition.get_attribute('id')}']").inner_text()
    shot(page, "distribution-basket-checked")

    # Accept the ethics condition and submit.
    condition.check()
    page.get_by_label("Shipping address").fill("Motor Neuron Lab, 1 Example Road, Leiden, Netherlands")
    page.get_by_role("button", name="Submit request").click()
    page.wait_for_url(re.compile(r"/distribution/requests/\d+/$"))
    request = DistributionRequest.objects.get()
    assert status_heading(page) == f"Request {request.pk} · Submitted"
    assert f"Request {request.pk} submitted" in page.locator(".messages").inner_text()
    shot(page, "distribution-request-submitted")

    # "My requests" lists it as submitted.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Requests").click()
    page.wait_for_url(re.compile(r"/distribution/requests/$"))
    mine = page.locator("table tbody tr").filter(has_text=f"Request {request.pk}")
    assert mine.locator("td").nth(1).inner_text() == "Submitted"
    shot(page, "distribution-my-requests")

    request.refresh_from_db()
    assert (request.status, request.purpose_codes, request.accepted_conditions) == (
        "submitted",
        [HMB],
        [IRB],
    )
    assert [item.line.name for item in request.items.all()] == [wanted.name]


def test_a_curator_goes_from_the_queue_to_a_shipped_request(page, researcher, curator):
    # The consent limits use to a region: the eligibility check cannot decide that,
    # so the curator must approve the line with a reason.
    line = line_with([GRU, GS])
    request = create_request(
        researcher,
        [line],
        purpose_codes=[HMB],
        organisation_type="academic",
        vials={line.name: 2},
        accepted_conditions=[GS],
    )
    actions.submit(request, researcher, accepted_conditions=[GS])

    sign_in(page, "cora", "pw-cora-123", "/distribution/queue/")
    assert status_heading(page) == "Distribution requests"
    queued = page.locator("section[aria-labelledby='review-heading'] tbody tr").filter(has_text="rita")
    assert queued.count() == 1
    shot(page, "distribution-queue")
    queued.get_by_role("link", name="Open").click()
    page.wait_for_url(re.compile(rf"/distribution/requests/{request.pk}/$"))
    assert status_heading(page) == f"Request {request.pk} · Submitted"
    assert "Curator decides" in page.locator("table tbody tr").filter(has_text=line.name).inner_text()

    def click(button, expect_status, within=page):
        """Post a form; the page comes back (after the redirect) with the request's status."""
        with page.expect_navigation():
            within.get_by_role("button", name=button, exact=True).click()
        assert status_heading(page) == f"Request {request.pk} · {expect_status}"

    click("Start review", "Under review")

    # Approving the request before deciding the line is refused, and the page says why.
    click("Approve request", "Under review")
    assert line.name in page.locator(".messages").inner_text()

    row = page.locator("table tbody tr").filter(has_text=line.name)
    row.get_by_label("Reason").fill("Consent names the EU; the requester is in the EU.")
    click("Approve line", "Under review", within=row)
    assert page.confirmations[-1] == f"Approve {line.name} for this request?"  # asked before acting
    assert "Consent names the EU" in page.locator("table tbody tr").filter(has_text=line.name).inner_text()
    page.get_by_label("Reason (required to reject)").fill("Consent fits the project.")
    click("Approve request", "Approved (awaiting agreement)")
    shot(page, "distribution-request-approved")

    # The executed material transfer agreement.
    page.get_by_label("MTA reference").fill("MTA-2026-042")
    page.get_by_label("Executed on").fill(datetime.date.today().isoformat())
    click("Record executed agreement", "Agreement executed")
    assert "MTA-2026-042" in page.locator("section[aria-labelledby='about-heading']").inner_text()

    # The shipment: date, vials, batch and passage per line.
    page.get_by_label("Shipped on").fill(datetime.date.today().isoformat())
    page.get_by_label("Courier reference").fill("DHL-1")
    page.get_by_label(f"Vials of {line.name}").fill("2")
    page.get_by_label(f"Batch of {line.name}").fill("B7")
    page.get_by_label(f"Passage of {line.name}").fill("19")
    click("Record shipment", "Shipped")
    shipped = page.locator("table tbody tr").filter(has_text="DHL-1")
    assert shipped.locator("td").all_inner_texts()[2:] == ["2", "B7", "19", "DHL-1"]
    shot(page, "distribution-request-shipped")

    request.refresh_from_db()
    assert request.status == "shipped"
    assert request.agreement_reference == "MTA-2026-042"
    shipment = Shipment.objects.get()
    assert (
        shipment.request_id,
        shipment.line_id,
        shipment.vials,
        shipment.batch,
        shipment.passage,
    ) == (request.pk, line.pk, 2, "B7", 19)
