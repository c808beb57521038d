"""The journeys users tripped over, in Chromium: choosing healthy controls, an age range
the wrong way round (the error shows in place, what was typed stays), a withdrawn
line's tombstone, an STR search started from a line page with its marker-by-marker
view, compare ticks kept across pages with a fifth refused, and the skip link.
Screenshots in test-artifacts/."""

import re

import pytest

from distribution.actions.withdrawal import withdraw_line
from lines.models import CellLine, ReferenceProfile
from lines.search_text import refresh_search_text
from lines.str.matching import normalise_profile
from lines.str.store import LINE, REFERENCE, reindex
from tests.factories import CellLineFactory, ConsentFactory
from tests.lines.holdings import test_browser
from tests.lines.str.test_str_search import HB2  # 1-7HB2's profile in Cellosaurus release 29

browser, page, shot, shown_total, _data_migrations = (
    test_browser.browser,
    test_browser.page,
    test_browser.shot,
    test_browser.shown_total,
    test_browser._data_migrations,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_choosing_healthy_controls(page, catalog):
    page.goto("/lines/")
    box = page.get_by_role("checkbox", name=re.compile(r"^Unaffected control\b"))
    with page.expect_response(re.compile(r"/lines/\?")):
        box.check()
    page.wait_for_url(re.compile(r"affection_status=unaffected"))
    assert shown_total(page) == 1
    assert page.locator("table.catalog-table tbody th a").all_inner_texts() == ["UCSFi002-A"]
    assert "unaffected control" in page.locator("table.catalog-table tbody").inner_text()
    shot(page, "catalog-healthy-controls")


def test_an_age_range_the_wrong_way_round_is_shown_in_place(page, catalog):
    page.goto("/lines/")
    page.get_by_label("Search", exact=True).fill("SOD1")
    page.get_by_label("From").fill("70")
    with page.expect_response(re.compile(r"age_min=70")):
        page.get_by_label("to", exact=True).fill("40")
        page.get_by_label("to", exact=True).dispatch_event("change")
    alert = page.locator("#results [role=alert]")
    alert.wait_for()
    assert "age" in alert.inner_text().lower()
    assert shown_total(page) == 0  # not the stale count of before
    # The form was not replaced: what the user typed is still there.
    assert page.get_by_label("Search", exact=True).input_value() == "SOD1"
    assert page.get_by_label("From").input_value() == "70"
    shot(page, "catalog-age-range-error")


def test_a_withdrawn_lines_tombstone(page, catalog, curator):
    line = catalog["fus"]
    withdraw_line(line, by=curator, reason="mycoplasma found on re-test of the master bank", notify=False)
    response = page.goto(f"/lines/{line.name}/")
    assert response.status == 410
    assert page.get_by_role("heading", name="This line has been withdrawn").is_visible()
    assert "mycoplasma found on re-test" in page.locator(".tombstone").inner_text()
    shot(page, "line-tombstone")


def test_an_str_search_from_a_line_page_with_its_marker_view(page, catalog):
    consent = ConsentFactory(genetic_data="open")
    line = CellLineFactory(donor=consent.donor, str_profile=normalise_profile(HB2))
    reindex(LINE, line)
    near = ReferenceProfile.objects.create(
        accession="CVCL_0001", name="Near", str_profile=normalise_profile({**HB2, "TH01": "7", "vWA": "14,18"})
    )
    reindex(REFERENCE, near)
    refresh_search_text(CellLine.objects.filter(pk=line.pk))
    page.goto(f"/lines/{line.name}/")
    page.get_by_role("link", name="Search other holdings and Cellosaurus with this profile").click()
    page.wait_for_url(re.compile(r"/str/\?line="))
    assert "TH01: 7,9" in page.get_by_role("textbox", name="Profile").input_value()
    hits = page.locator("#str-hits")
    assert "Near" in hits.inner_text()
    page.get_by_text("Marker by marker", exact=False).filter(has_text="Near").click()
    view = page.locator('details[data-markers="Near"]')
    assert view.get_attribute("open") is not None
    rows = view.locator("tbody tr")
    assert rows.filter(has_text="TH01").locator("td.state").inner_text().startswith("Partly shared")
    assert rows.filter(has_text="D13S317").locator("td.state").inner_text() == "Shared"
    shot(page, "str-search-from-line-marker-view")


def test_compare_keeps_ticks_across_pages_and_refuses_a_fifth(page, owner_institution):
    lines = [CellLineFactory(name=f"UKBi{n:03d}-A") for n in range(1, 8)]
    refresh_search_text(CellLine.objects.all())
    page.goto("/lines/?page_size=25&ordering=name")
    for line in lines[:2]:
        page.get_by_label(f"Compare {line.name}").check()
    page.goto("/lines/?page_size=25&ordering=-name")  # another view of the catalog
    assert page.get_by_label(f"Compare {lines[0].name}").is_checked()
    for line in lines[2:4]:
        page.get_by_label(f"Compare {line.name}").check()
    fifth = page.get_by_label(f"Compare {lines[4].name}")
    fifth.click()  # the page unticks it at once
    assert not fifth.is_checked()
    assert "At most 4 lines" in page.locator("#compare-status").inner_text()
    shot(page, "catalog-compare-fifth-refused")
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_url(re.compile(r"/lines/compare/"))
    assert all(f"names={line.name}" in page.url for line in lines[:4])


def test_the_skip_link_reaches_the_results_at_every_width(page, catalog):
    for width in (1280, 380):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/lines/")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent")
        assert focused == "Skip to the results", width
        assert page.locator("a.skip-link:focus").is_visible()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "results"
