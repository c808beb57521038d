"""Every line page carries a schema.org/Bioschemas JSON-LD record, the site has a
sitemap of the released lines, and a line exports as Cellosaurus-style text and
hPSCreg fields, with the RRID where known."""

import json
import re

import pytest
from django.test import Client

from tests.factories import CellLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines(owner_institution):
    released = CellLineFactory(
        name="UKBi001-A",
        cellosaurus_accession="CVCL_ZZ01",
        donor__institution=owner_institution,
        donor__donor_number="001",
        released_at="2025-01-01T00:00:00Z",
    )
    draft = CellLineFactory(
        name="UKBi002-A", status="draft", donor__institution=owner_institution, donor__donor_number="002"
    )
    return released, draft


def test_the_line_page_carries_json_ld_with_rrid_disease_and_provider(lines):
    html = Client().get("/lines/UKBi001-A/").content.decode()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    record = json.loads(block.group(1))
    assert record["@context"] == "https://schema.org" and "BioChemEntity" in record["@type"]
    assert record["identifier"] == "UKBi001-A"
    assert record["additionalProperty"][0]["value"] == "RRID:CVCL_ZZ01"
    assert record["associatedDisease"]["code"]["codeValue"] == "MONDO:0004976"
    assert record["provider"]["@type"] == "Organization"


def test_the_sitemap_lists_released_lines_only(lines):
    xml = Client().get("/sitemap.xml").content.decode()
    assert "/lines/UKBi001-A/" in xml and "UKBi002-A" not in xml


def test_cellosaurus_style_entry(lines):
    text = Client().get("/lines/UKBi001-A/cellosaurus.txt").content.decode()
    assert text.startswith("ID   UKBi001-A\nAC   CVCL_ZZ01\n") and "DI   MONDO; MONDO:0004976" in text
    assert "SX   Female" in text and text.endswith("//\n")


def test_hpscreg_fields_with_rrid(lines):
    fields = Client().get("/lines/UKBi001-A/hpscreg.json").json()
    assert fields["rrid"] == "RRID:CVCL_ZZ01" and fields["type"] == "hiPSC" and fields["disease"] == "MONDO:0004976"


def test_an_unreleased_line_exports_to_nobody_who_may_not_see_it(lines, depositor):
    assert Client().get("/lines/UKBi002-A/hpscreg.json").status_code == 404
    client = Client()
    client.force_login(depositor)
    assert client.get("/lines/UKBi002-A/cellosaurus.txt").status_code == 200
