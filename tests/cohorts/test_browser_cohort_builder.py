"""The issue's journey in a real browser (Debian's Chromium through Playwright,
the page under CSP): a researcher builds a three-arm C9orf72 / sporadic / control
cohort, sees the balance table and the exclusions, saves it, downloads the plate
map and submits one request. Screenshots go to test-artifacts/."""

import re
from pathlib import Path

import pytest

from core.accounts import create_user_with_role
from distribution.models import DistributionRequest
from tests.cohorts.helpers import three_arm_catalog, usable_line
from tests.lines.holdings import test_browser
from tests.results.test_browser_results import sign_in

browser, page, shot = test_browser.browser, test_browser.page, test_browser.shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalog():
    c9, sporadic, controls = three_arm_catalog(n=3)
    failed_qc = usable_line(kind="c9", qc_status="failed")
    out_of_stock = usable_line(kind="sporadic", vials_in_stock=0)
    return c9, sporadic, controls, failed_qc, out_of_stock


def test_a_researcher_builds_saves_plates_and_requests_a_three_arm_cohort(page, live_server, catalog):
    c9, sporadic, controls, failed_qc, out_of_stock = catalog
    create_user_with_role("rosa", "researcher", password="pw-rosa-123")
    sign_in(page, "rosa", "pw-rosa-123", "/cohorts/")
    page.get_by_role("link", name="Cohorts").first.wait_for()
    for arm, (name, filters) in enumerate(
        [
            ("C9orf72", "gene=C9orf72"),
            ("sporadic", "family_history=sporadic&affection_status=affected"),
            ("control", "affection_status=unaffected"),
        ],
        start=1,
    ):
        page.get_by_label(f"Arm {arm} name").fill(name)
        page.get_by_label(f"Arm {arm} filters").fill(filters)
        page.get_by_label(f"Arm {arm} size").fill("3")
    page.get_by_label("Arm 3 matched to").select_option("1")
    page.get_by_label("Seed").fill("2026")
    shot(page, "cohorts-builder-form")

    page.get_by_role("button", name="Propose").click()
    balance = page.locator("#balance")
    balance.wait_for()
    assert page.url.endswith("/cohorts/")  # proposed in place (htmx), not a page load
    assert "SMD control" in balance.inner_text() and "sex: female" in balance.inner_text()
    exclusions = page.locator("#exclusions").inner_text()
    assert failed_qc.name in exclusions and "QC not passed" in exclusions
    assert out_of_stock.name in exclusions and "stock" in exclusions
    members = page.locator("table.members[data-arm='control'] tbody tr")
    assert members.count() == 3
    shot(page, "cohorts-proposal")

    page.get_by_label("Name", exact=True).fill("C9orf72 vs sporadic vs control screen")
    page.get_by_role("button", name="Save the cohort").click()
    page.wait_for_url(re.compile(r"/cohorts/COH-[0-9a-f]{8}/$"))
    assert "Saved as COH-" in page.locator(".messages").inner_text()
    shot(page, "cohorts-saved")

    page.get_by_label("Plate").select_option("384")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the plate map").click()
    plate_map = Path(download.value.path()).read_text()
    assert "seed 2026" in plate_map and "wells 384" in plate_map
    every_line = {line.name for line in (*c9, *sporadic, *controls)}
    assert every_line <= set(re.findall(r"[A-Z]+i\d+-[A-Z]", plate_map))

    page.get_by_role("button", name="Draft one request for every line").click()
    page.wait_for_url(re.compile(r"/distribution/requests/\d+/$"))
    shot(page, "cohorts-request-draft")
    page.get_by_role("button", name="Submit request").click()
    page.wait_for_load_state()
    request = DistributionRequest.objects.get()
    assert request.status == "submitted"
    assert set(request.items.values_list("line__name", flat=True)) == every_line
    shot(page, "cohorts-request-submitted")
