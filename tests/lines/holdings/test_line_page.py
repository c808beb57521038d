"""The line page and compare: what the API shows, laid out; hidden genetic data and lines stay
hidden; every consent condition in the eligibility answer's words; the page's sidebar counts
equal the facets API's."""

import re

import pytest
from django.test import Client
from django.utils.html import escape

from distribution.eligibility import evaluate_lines
from donors.duo import Purpose
from lines.holdings.facets import FACETS
from tests.factories import (
    CellLineFactory,
    ConsentFactory,
    DonorFactory,
)
from tests.lines.holdings.pages_catalog import CORE

pytestmark = pytest.mark.django_db


# --- line page -----------------------------------------------------------------------


def test_the_line_page_lays_out_what_the_api_shows(client, catalog):
    html = client.get("/lines/UKBi001-A/").content.decode()

    assert "<h1>UKBi001-A</h1>" in html
    assert "UKBD001" in html and "amyotrophic lateral sclerosis" in html and "61 years" in html
    assert "A4V" in html and "NM_000454.5:c.14C&gt;T" in html and "Heterozygous" in html
    # QC panel with pass badges and values (markers with % positive).
    assert html.count('<span class="badge pass">Pass</span>') == len(CORE)
    assert "OCT4 97.5 %" in html and "NANOG 95 %" in html
    # Consent in plain words.
    assert "companies may use it" in html and "general research use" in html
    # The isogenic family: the line itself highlighted, its subclone linked.
    assert '<strong class="here" aria-current="page">UKBi001-A</strong>' in html
    assert 'href="/lines/UKBi001-A-1/"' in html
    # STR profile shown (open consent); no hPSCreg link, as no registration is recorded.
    assert "D5S818" in html and "9.3" in html
    assert "hpscreg.eu" not in html


def test_registry_links_only_where_a_registration_or_accession_is_known(client, catalog):
    line = catalog["fus"]
    line.hpscreg_name, line.cellosaurus_accession = "UCSFi001-A", "CVCL_ZZ77"
    line.save()
    html = client.get("/lines/UCSFi001-A/").content.decode()
    assert 'href="https://hpscreg.eu/cell-line/UCSFi001-A"' in html
    assert "Cellosaurus RRID:CVCL_ZZ77" in html
    record = client.get("/api/v1/lines/UCSFi001-A/").json()
    assert record["links"]["hpscreg"] == "https://hpscreg.eu/cell-line/UCSFi001-A"
    listed = client.get("/api/v1/lines/", {"institution": "UCSF"}).json()["results"]
    assert [item["links"] for item in listed if item["name"] == "UCSFi001-A"] == [record["links"]]


def test_the_subclone_page_shows_its_parent_above_it(client, catalog):
    html = client.get("/lines/UKBi001-A-1/").content.decode()

    tree = html[html.index('<ul class="tree"') : html.index("</ul>", html.index('<ul class="tree"'))]
    assert tree.index('href="/lines/UKBi001-A/"') < tree.index('aria-current="page">UKBi001-A-1<')


def test_genetic_data_a_consent_keeps_to_curators_is_not_on_the_page(as_role, catalog):
    html = as_role("researcher").get("/lines/UCSFi001-A/").content.decode()

    assert "R521C" not in html and ">FUS<" not in html and "p.Arg521Cys" not in html
    assert "Not shown: the donor's consent keeps genetic data" in html
    assert "non-commercial use only" in html
    curator_html = as_role("curator").get("/lines/UCSFi001-A/").content.decode()
    assert "R521C" in curator_html and "TH01" in curator_html


@pytest.mark.parametrize(
    ("role", "line", "status"),
    [
        ("anonymous", "UKBi003-A", 404),
        ("researcher", "UKBi003-A", 404),
        ("other_depositor", "UKBi003-A", 404),
        ("depositor", "UKBi003-A", 200),
        ("depositor", "UCSFi001-B", 404),
        ("researcher", "UCSFi001-B", 404),
        ("other_depositor", "UCSFi001-B", 200),
        ("curator", "UCSFi001-B", 200),
        ("researcher", "NOSUCHi999-Z", 404),
        ("researcher", "x" * 300, 404),
    ],
)
def test_the_line_page_is_404_for_lines_the_user_may_not_see(as_role, catalog, role, line, status):
    assert as_role(role).get(f"/lines/{line}/").status_code == status


def test_the_request_button_adds_the_line_to_the_basket(as_role, catalog):
    client = as_role("researcher")
    html = client.get("/lines/UKBi001-A/").content.decode()
    assert 'action="/distribution/basket/add/"' in html and "Request this line" in html

    response = client.post("/distribution/basket/add/", {"line": "UKBi001-A", "next": "/lines/UKBi001-A/"})
    assert response.status_code == 302
    assert "UKBi001-A" in client.get("/distribution/basket/").content.decode()
    assert "Sign in to request" in Client().get("/lines/UKBi001-A/").content.decode()


# --- compare -------------------------------------------------------------------------


def test_compare_puts_two_to_four_lines_side_by_side(client, catalog):
    response = client.get("/lines/compare/?names=UKBi001-A&names=UCSFi001-A&names=UCSFi002-A")

    assert response.status_code == 200
    html = response.content.decode()
    header = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    assert re.findall(r'href="/lines/([^/]+)/"', header) == [
        "UKBi001-A",
        "UCSFi001-A",
        "UCSFi002-A",
    ]
    assert "SOD1 A4V" in html and "Healthy control" in html
    assert '<span class="badge fail">Fail</span>' in html  # the control's mycoplasma
    assert "R521C" not in html  # still follows the consent


@pytest.mark.parametrize(
    "names", [["UKBi001-A"], ["UKBi001-A", "UKBi001-A-1", "UCSFi001-A", "UCSFi002-A", "UKBi002-A"]]
)
def test_compare_with_one_or_five_lines_says_what_to_do(client, catalog, names):
    response = client.get("/lines/compare/", {"names": names})

    assert response.status_code == 400
    assert f"Choose between 2 and 4 lines to compare (you chose {len(names)})" in response.content.decode()


def test_compare_does_not_reveal_hidden_lines(as_role, catalog):
    html = as_role("researcher").get("/lines/compare/?names=UKBi001-A&names=UKBi003-A").content.decode()

    assert "No line visible to you is called UKBi003-A" in html
    assert "consent withdrawn" not in html


def test_the_line_page_lists_every_condition_in_the_eligibility_answers_words(client, owner_institution):
    # GSO, NMDS and RS are enforced by the request workflow like IRB and GS: the page lists them all.
    codes = ["DUO:0000016", "DUO:0000015", "DUO:0000012", "DUO:0000021", "DUO:0000022"]
    donor = DonorFactory(institution=owner_institution, donor_number="091")
    ConsentFactory(donor=donor, codes=["DUO:0000042", *codes])
    line = CellLineFactory(donor=donor, institution=owner_institution, name="UKBi091-A")
    answer = evaluate_lines([line], Purpose(frozenset({"DUO:0000006"})))[0]

    html = client.get(f"/lines/{line.name}/").content.decode()
    section = html[html.index("Conditions you must accept") :]
    assert {c.code for c in answer.conditions} == set(codes)
    for condition in answer.conditions:
        assert escape(condition.text) in section, condition.code


def sidebar_counts(html):
    """{facet: {value: count}} as the catalog sidebar shows them (selected values with no
    matching line are offered at 0 so they can be cleared: left out here)."""
    counts = {}
    for name, value, count in re.findall(
        r'name="(\w+)" value="([^"]*)"(?: checked)?>\s*<span>[^<]*</span> '
        r'<span class="count" aria-label="(\d+) lines">',
        html,
    ):
        if name in FACETS and int(count):
            counts.setdefault(name, {})[value] = int(count)
    return counts


def facets_sex(facets):
    return {v["value"]: v["count"] for v in facets["sex"]}


def api_counts(facets):
    return {
        name: {v["value"]: v["count"] for v in values if v["value"] is not None}
        for name, values in facets.items()
        if any(v["value"] is not None for v in values)
    }


@pytest.mark.parametrize(
    "query",
    [
        "gene=SOD1",
        "sex=male",  # a selected facet: its other values count over the other filters
        "sex=male&institution=UCSF",
        "sex=female&sex=male&qc_status=passed&search=ukb",
        "gene=SOD1&disease=MONDO:0004976&availability=available",
    ],
)
@pytest.mark.parametrize("role", ("anonymous", "curator"))
def test_the_catalog_page_and_the_facets_api_give_the_same_counts(as_role, catalog, query, role):
    client = as_role(role)
    page = sidebar_counts(client.get(f"/lines/?{query}").content.decode())
    facets = client.get(f"/api/v1/lines/facets/?{query}").json()["facets"]
    listed = client.get(f"/api/v1/lines/?{query}&facets=true").json()["facets"]

    assert page == api_counts(facets)
    assert listed == facets
    if query == "sex=male" and role == "anonymous":
        assert page["sex"] == facets_sex(facets) == {"female": 2, "male": 2}


def test_a_disease_without_a_mondo_mapping_is_shown_as_written_and_flagged(client, owner_institution):
    donor = DonorFactory(
        institution=owner_institution, code="CVCL-DONOR-1", disease="", disease_label="Parkinson disease (NCIt C26845)"
    )
    ConsentFactory(donor=donor, genetic_data="open", codes=["DUO:0000042"])
    CellLineFactory(donor=donor, name="UKBi077-A")
    unmapped = {"id": None, "label": "Parkinson disease (NCIt C26845)", "mapped": False}

    assert client.get("/api/v1/lines/UKBi077-A/").json()["donor"]["disease"] == unmapped
    listed = client.get("/api/v1/lines/", {"institution": "UKB"}).json()["results"]
    assert [row["donor"]["disease"] for row in listed if row["name"] == "UKBi077-A"] == [unmapped]
    html = client.get("/lines/UKBi077-A/").content.decode()
    assert "Parkinson disease (NCIt C26845)" in html and "not mapped to MONDO" in html
    assert "Healthy control" not in html
