"""The cached catalog figures (facet counts, home figures, the curator dashboard) change
the moment a write commits: a line, a consent withdrawal, a QC record, a lot recall.

Transactional tests: the catalog version goes up when the writer's transaction
commits, as in production (inside a rolled-back test transaction it never would).
"""

import re

import pytest
from django.test import Client
from django.urls import reverse

from distribution.actions.recall import recall_lot
from distribution.actions.withdrawal import withdraw_consent
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory, QCRecordFactory
from tests.stock.helpers import passing_panel, released_lot

pytestmark = pytest.mark.django_db(transaction=True)


def number(pattern, html):
    match = re.search(pattern, html)
    assert match, f"{pattern} not on the page"
    return int(match.group(1).replace(",", ""))


class Figures:
    """What a user reads on the three cached pages (each read warms its cache)."""

    def __init__(self, client, curator_client):
        self.client, self.curator_client = client, curator_client

    def read(self):
        catalog = self.client.get("/lines/").content.decode()
        home = self.client.get(reverse("home")).content.decode()
        dashboard = self.curator_client.get(reverse("curator-dashboard")).content.decode()
        return {
            "catalog total": number(r'<span data-total="(\d+)">', catalog),
            "catalog male": number(
                r'name="sex" value="male">\s*<span>[^<]*</span> <span class="count"[^>]*>(\d+)<', catalog
            ),
            "catalog in stock": number(
                r'id="f-in_stock"[^>]*>\s*<span>[^<]*</span> <span class="count"[^>]*>(\d+)<', catalog
            ),
            "catalog QC passed": number(
                r'id="f-qc_passed"[^>]*>\s*<span>[^<]*</span> <span class="count"[^>]*>(\d+)<', catalog
            ),
            "home lines": number(r'data-stat="lines">([\d,]+)<', home),
            "dashboard released": number(r"[\d,]+ of ([\d,]+) released lines", dashboard),
            "dashboard QC passed": number(r"([\d,]+) of [\d,]+ released lines", dashboard),
            "dashboard mycoplasma failing": number(r'data-failing="mycoplasma">(?:<a [^>]*>)?(\d+)<', dashboard),
        }


@pytest.fixture
def catalog(owner_institution, curator):
    lines = []
    for number_, sex in enumerate(("male", "male", "female"), start=1):
        donor = DonorFactory(institution=owner_institution, sex=sex, donor_number=f"{number_:03d}")
        ConsentFactory(donor=donor)
        lines.append(CellLineFactory(donor=donor, name=f"UKBi{number_:03d}-A"))
    passing_panel(lines[0])
    lines[0].refresh_qc_status()
    return lines


@pytest.fixture
def figures(client, curator):
    curator_client = Client()
    curator_client.force_login(curator)
    return Figures(client, curator_client)


def changed(before, after):
    return {name: (before[name], after[name]) for name in before if before[name] != after[name]}


def test_a_changed_line_shows_at_once(catalog, figures):
    before = figures.read()
    catalog[1].status = "draft"
    catalog[1].save()

    assert changed(before, figures.read()) == {
        "catalog total": (3, 2),
        "catalog male": (2, 1),
        "home lines": (3, 2),
        "dashboard released": (3, 2),
    }


def test_a_consent_withdrawal_shows_at_once(catalog, figures, curator):
    before = figures.read()
    withdraw_consent(catalog[0].donor, by=curator, reason="the donor asked", notify=False)

    assert changed(before, figures.read()) == {
        "catalog total": (3, 2),
        "catalog male": (2, 1),
        "catalog QC passed": (1, 0),
        "home lines": (3, 2),
        "dashboard released": (3, 2),
        "dashboard QC passed": (1, 0),
    }


def test_a_qc_record_shows_at_once(catalog, figures):
    before = figures.read()
    QCRecordFactory(line=catalog[0], test="mycoplasma", result="fail", tested_on="2025-04-01")
    catalog[0].refresh_qc_status()

    assert changed(before, figures.read()) == {
        "catalog QC passed": (1, 0),
        "dashboard QC passed": (1, 0),
        "dashboard mycoplasma failing": (0, 1),
    }


def test_a_lot_recall_shows_at_once(catalog, figures, curator):
    lot = released_lot(catalog[2], vials=2, by=curator)
    before = figures.read()
    assert before["catalog in stock"] == 1

    recall_lot(lot, by=curator, reason="mycoplasma re-test failed", notify=False)

    assert changed(before, figures.read()) == {"catalog in stock": (1, 0)}


def test_figures_are_served_from_the_cache_until_something_changes(
    catalog, figures, client, django_assert_max_num_queries
):
    figures.read()
    # Warm: the version check, the session-free page's own rows, no facet or figure query.
    with django_assert_max_num_queries(4):
        client.get(reverse("home"))
