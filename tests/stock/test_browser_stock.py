"""Stock in a real browser (Debian's Chromium through Playwright) against a live server:
a curator receives a box of vials by uploading a file on the stock page, finds one by
its scanned code, approves a request (two vials reserved) and ships them; the box
grid then shows the two wells empty. Helpers are those of the other browser tests."""

import datetime
import re

import pytest

from distribution.actions import requests as actions
from distribution.actions.requests import create_request
from distribution.models import ReservedVial
from stock.models import Vial
from tests.distribution import test_browser_distribution as distribution_browser
from tests.distribution.workflow import GRU, HMB, IRB, line_with
from tests.lines.holdings import test_browser
from tests.stock.helpers import a_box, released_lot

browser, page, shot = test_browser.browser, test_browser.page, test_browser.shot
sign_in, status_heading = distribution_browser.sign_in, distribution_browser.status_heading

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_curator_receives_a_box_of_vials_and_ships_two_of_them(page, researcher, curator, tmp_path):
    line = line_with([GRU, IRB])
    released_lot(line, code="MCB01", accession="SAMEG5550001")
    a_box(code="ln2-1-r1-b1", name="Box 1", rows=3, columns=3)
    upload = tmp_path / "box1.csv"
    upload.write_text(
        "vial,batch,box,position\n"
        + "".join(f"SAMEA55500{n},SAMEG5550001,ln2-1-r1-b1,{w}\n" for n, w in enumerate(["A1", "A2", "A3", "B1"]))
    )

    sign_in(page, "cora", "pw-cora-123", "/stock/")
    assert status_heading(page) == "Stock"
    page.get_by_label("CSV or XLSX, one row per vial").set_input_files(str(upload))
    with page.expect_navigation():
        page.get_by_role("button", name="Receive").click()
    assert f"Received 4 vial(s) of {line.name} MCB01." in page.locator(".messages").inner_text()
    shot(page, "stock-received")

    # A USB scanner types the code and Enter into the focused field.
    page.get_by_label("Vial id").fill("SAMEA555002")
    with page.expect_navigation():
        page.get_by_label("Vial id").press("Enter")
    page.wait_for_url(re.compile(r"/stock/boxes/ln2-1-r1-b1/\?highlight=SAMEA555002$"))
    assert page.locator("td.highlight").get_attribute("data-well") == "A3"
    shot(page, "stock-box-scanned")

    request = create_request(researcher, [line], purpose_codes=[HMB], vials={line.name: 2})
    actions.submit(request, researcher, accepted_conditions=[IRB])
    page.goto(f"/distribution/requests/{request.pk}/")

    def click(button, expect_status):
        with page.expect_navigation():
            page.get_by_role("button", name=button, exact=True).click()
        assert status_heading(page) == f"Request {request.pk} · {expect_status}"

    click("Start review", "Under review")
    click("Approve request", "Approved (awaiting agreement)")
    reserved = sorted(ReservedVial.objects.filter(item__request=request).values_list("vial__identifier", flat=True))
    assert reserved == ["SAMEA555000", "SAMEA555001"]  # oldest first, in the order received
    page.get_by_label("MTA reference").fill("MTA-2026-077")
    page.get_by_label("Executed on").fill(datetime.date.today().isoformat())
    click("Record executed agreement", "Agreement executed")
    page.get_by_label("Shipped on").fill(datetime.date.today().isoformat())
    page.get_by_label("Courier reference").fill("WC-9")
    page.get_by_label(f"Vials of {line.name}").fill("2")
    click("Record shipment", "Shipped")
    shot(page, "stock-request-shipped")

    assert sorted(Vial.objects.filter(status="shipped").values_list("identifier", flat=True)) == reserved
    page.goto("/stock/boxes/ln2-1-r1-b1/")
    wells = {cell.get_attribute("data-well"): cell.inner_text() for cell in page.locator("td[data-well]").all()}
    assert "SAMEA555000" not in wells["A1"] and "SAMEA555001" not in wells["A2"]
    assert "SAMEA555002" in wells["A3"] and "SAMEA555003" in wells["B1"]
    shot(page, "stock-box-after-shipping")
