"""Healthy controls are a first-class choice: affection status (affected, unaffected
control, unaffected carrier) is a filter and a facet on the catalog page, the API and
the home page, and a search for "healthy" or "control" finds them. A carrier is
genetic data: shown as one only to those who see the donor's genetic data."""

import pytest
from django.core.cache import cache

from donors.affection import refresh_affection_status
from donors.models import Donor
from lines.models import CellLine
from lines.search_text import refresh_search_text
from tests.conftest import client_for
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory, VariantFactory
from tests.lines.holdings.pages_catalog import browser_for, line_names

pytestmark = pytest.mark.django_db


@pytest.fixture
def carrier(catalog, other_institution):
    """A presymptomatic C9orf72 carrier whose consent keeps genetic data to curators."""
    donor = DonorFactory(
        institution=other_institution,
        code="UCSFD009",
        donor_number="009",
        disease="",
        disease_label="",
        family_history="",
        onset_site="",
        age_at_onset=None,
    )
    ConsentFactory(donor=donor, genetic_data="controlled")
    VariantFactory(donor=donor, gene="C9orf72", hgvs="", protein="", legacy_name="G4C2 expansion")
    line = CellLineFactory(donor=donor, name="UCSFi009-A")
    refresh_affection_status()
    refresh_search_text(CellLine.objects.all())
    cache.clear()
    return line


def _api_names(user, **params):
    results = client_for(user).get("/api/v1/lines/", params).json()["results"]
    return {r["name"]: r["donor"]["affection_status"] if r["donor"] else None for r in results}


def test_the_affection_status_is_derived_from_what_was_deposited(catalog, carrier):
    statuses = dict(Donor.objects.values_list("code", "affection_status"))
    assert statuses["UKBD001"] == "affected"  # ALS
    assert statuses["UCSFD002"] == "unaffected"  # no disease, no pathogenic variant
    assert statuses["UCSFD009"] == "carrier"  # no disease, a pathogenic germline variant


def test_healthy_controls_can_be_chosen_on_the_page_and_in_the_api(client, catalog):
    html = client.get("/lines/").content.decode()
    assert "Patients and controls" in html and 'name="affection_status" value="unaffected"' in html
    assert line_names(client.get("/lines/?affection_status=unaffected").content.decode()) == {"UCSFi002-A"}
    assert set(_api_names(None, affection_status="unaffected")) == {"UCSFi002-A"}
    assert "UCSFi002-A" not in _api_names(None, affection_status="affected")


@pytest.mark.parametrize("words", ["healthy", "control", "healthy control", "unaffected"])
def test_a_search_for_healthy_or_control_finds_the_controls(client, catalog, words):
    assert line_names(client.get("/lines/", {"search": words}).content.decode()) == {"UCSFi002-A"}


def test_the_facet_counts_controls(catalog):
    facets = client_for(None).get("/api/v1/lines/facets/").json()["facets"]["affection_status"]
    counts = {f["value"]: f["count"] for f in facets}
    assert counts["unaffected"] == 1 and counts["affected"] >= 3
    assert {f["label"] for f in facets} >= {"Affected", "Unaffected control"}


def test_a_carrier_is_shown_as_one_only_to_those_who_see_the_genetic_data(catalog, carrier, researcher, curator):
    for user in (None, researcher):
        assert _api_names(user)["UCSFi009-A"] == "unaffected"
        assert "UCSFi009-A" not in _api_names(user, affection_status="carrier")
        assert "UCSFi009-A" in _api_names(user, affection_status="unaffected")
        facets = client_for(user).get("/api/v1/lines/facets/").json()["facets"]["affection_status"]
        assert "carrier" not in {f["value"] for f in facets}
        page = browser_for(user).get("/lines/", {"search": "carrier"}).content.decode()
        assert "UCSFi009-A" not in line_names(page)
    assert _api_names(curator)["UCSFi009-A"] == "carrier"
    assert set(_api_names(curator, affection_status="carrier")) == {"UCSFi009-A"}
    assert "UCSFi009-A" in line_names(browser_for(curator).get("/lines/", {"search": "carrier"}).content.decode())


def test_the_home_page_offers_patients_and_controls(client, catalog):
    html = client.get("/").content.decode()
    assert "Patients and controls" in html
    assert 'href="/lines/?affection_status=unaffected"' in html


def test_the_sidebar_offers_lines_with_vials_in_stock(client, catalog):
    CellLine.objects.filter(name="UKBi001-A").update(vials_in_stock=12)  # kept by stock.availability
    cache.clear()
    html = client.get("/lines/").content.decode()
    assert 'name="in_stock" value="true"' in html and "Vials in stock now" in html
    assert line_names(client.get("/lines/?in_stock=true").content.decode()) == {"UKBi001-A"}
