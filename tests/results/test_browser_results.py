"""The issue's journey in a real browser (Debian's Chromium through Playwright) against a
live server: a recipient deposits a dose-response table on the lines shipped to them,
the worker validates and fits it, a curator releases it, and a researcher compares
SOD1 vs C9orf72 vs control lines on the compound's EC50 (chart, table, CSV), also
without JavaScript. Screenshots land where the other browser tests put theirs."""

import re

import pytest

from core.accounts import create_user_with_role
from lines.models import CellLine
from tests.factories import DistributionRequestFactory
from tests.lines.holdings import test_browser
from tests.results.conftest import GRU, RTN, line_with_consent
from tests.results.documents import dose_response_rows

browser, page, shot = test_browser.browser, test_browser.page, test_browser.shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EC50 = {"SOD1": 0.3, "C9orf72": 4.0, "": 1.2}
COLUMNS = ["line", "compound", "concentration", "concentration_unit", "replicate", "readout", "value", "unit", "lot"]


def sign_in(page, username, password, start):
    page.context.clear_cookies()
    page.goto(f"/accounts/login/?next={start}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(rf"{re.escape(start)}$"))


@pytest.fixture
def shipped(owner_institution, curator):
    recipient = create_user_with_role("remy", "researcher", password="pw-remy-123")[0]
    lines = {}
    for n in range(12):
        gene = ["SOD1", "C9orf72", ""][n % 3]
        line = line_with_consent(
            f"UKBi{n + 10:03d}-A",
            institution=owner_institution,
            codes=(GRU, RTN) if n < 3 else (GRU,),
            gene=gene or None,
            disease="MONDO:0004976" if gene else "",
        )
        lines[line.name] = gene
    DistributionRequestFactory(
        requester=recipient,
        lines=list(CellLine.objects.filter(name__in=lines)),
        purpose_codes=(GRU,),
        status="shipped",
        curator=curator,
    )
    return lines


def test_deposit_validate_fit_release_and_compare_ec50_by_gene(
    page, browser, live_server, shipped, curator, researcher, tmp_path
):
    rows = dose_response_rows({name: EC50[gene] for name, gene in shipped.items()})
    table = tmp_path / "plate-384.csv"
    table.write_text(
        "\n".join([",".join(COLUMNS)] + [",".join(str(r.get(c, "B7")) for c in COLUMNS) for r in rows]) + "\n"
    )

    # The recipient deposits the plate's table.
    sign_in(page, "remy", "pw-remy-123", "/results/deposit/")
    shot(page, "results-deposit-form")
    page.get_by_label("Assay").select_option("dose_response")
    page.get_by_label("Format").select_option("csv")
    page.get_by_label("Title").fill("Invented riluzole dose-response on 12 shipped lines")
    page.get_by_label("Performed on").fill("2026-05-01")
    page.get_by_label("Protocol", exact=True).fill("PRISM MN")
    page.get_by_label("Protocol version").fill("2.1")
    page.get_by_label("Measurement table or JSON document").set_input_files(str(table))
    page.get_by_role("button", name="Deposit").click()
    page.wait_for_url(re.compile(r"/results/datasets/\d+/$"))
    dataset_url = page.url
    # Validation and fitting ran (in-process here: no broker in the tests) before the page loaded.
    assert "Valid, awaiting a curator" in page.locator(".line-tags").inner_text()
    assert page.locator("#fits-table tbody tr").count() == 12
    page.locator("#dose-chart[data-rendered=true] svg.marks").wait_for()
    shot(page, "results-dataset-fitted")

    # A curator releases it.
    sign_in(page, "cora", "pw-cora-123", "/results/")
    page.goto(dataset_url)
    page.get_by_role("button", name="Release").click()
    page.wait_for_url(dataset_url)
    assert "Released" in page.locator(".line-tags").inner_text()
    shot(page, "results-dataset-released")

    # A researcher compares SOD1 vs C9orf72 vs control on the EC50.
    sign_in(page, "rita", "pw-rita-123", "/results/compare/")
    page.get_by_label("Readout").select_option("ec50:riluzole")
    page.get_by_label("Group lines by").select_option("gene")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_load_state("networkidle")
    for group in ("SOD1", "C9orf72", "control"):
        page.get_by_role("checkbox", name=group, exact=True).check()
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url(re.compile(r"groups=control"))
    page.locator("#compare-chart[data-rendered=true] svg.marks").wait_for()
    groups = page.locator("#groups-table tbody th").all_inner_texts()
    assert sorted(g.split()[0] for g in groups) == ["C9orf72", "SOD1", "control"]
    medians = dict(
        zip(
            (g.split()[0] for g in groups),
            page.locator("#groups-table tbody td:nth-child(3)").all_inner_texts(),
            strict=True,
        )
    )
    assert float(medians["SOD1"]) < float(medians["control"]) < float(medians["C9orf72"])
    result = page.locator("#test-result").inner_text()
    assert "Kruskal-Wallis" in result and "p = " in result
    shot(page, "results-compare-ec50-by-gene")
    csv = page.request.get("/results/compare/" + page.locator("#compare-csv").get_attribute("href"))
    assert csv.headers["content-type"].startswith("text/csv") and "SOD1" in csv.text()

    # Without JavaScript the same numbers are a table.
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    plain = context.new_page()
    plain.goto(page.url.replace(live_server.url, ""))
    assert plain.locator("#groups-table tbody tr").count() == 3
    shot(plain, "results-compare-no-javascript")
    context.close()
