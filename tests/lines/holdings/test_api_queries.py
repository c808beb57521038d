"""No N+1: a list page costs the same number of SQL queries at 5 and at 100 items."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lines.models import CellLine
from lines.search_text import refresh_search_text
from tests.conftest import client_for
from tests.factories import (
    CellLineFactory,
    ConsentFactory,
    DonorFactory,
    QCRecordFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_catalog(owner_institution):
    parent = None
    for index in range(105):
        donor = DonorFactory(institution=owner_institution, donor_number=f"{index:03d}")
        ConsentFactory(
            donor=donor,
            genetic_data="open" if index % 2 else "controlled",
            codes=["DUO:0000042", "DUO:0000046"] if index % 3 else ["DUO:0000006"],
        )
        VariantFactory(donor=donor)
        line = CellLineFactory(
            donor=donor,
            institution=owner_institution,
            name=f"UKBi{index:03d}-A",
            parental_line=parent if index % 4 == 1 else None,
        )
        VariantFactory(donor=None, line=line, gene="FUS", origin="engineered")
        QCRecordFactory(line=line, tested_on=datetime.date(2024, 1, 1))
        parent = line
    refresh_search_text(CellLine.objects.all())


def queries_for(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, response.content
    return len(context.captured_queries)


LIST_URLS = [
    "/api/v1/lines/?page_size={n}",
    "/api/v1/lines/?page_size={n}&facets=true&gene=SOD1&sex=female&search=ukb",
    "/api/v1/lines/?page_size={n}&ordering=-released_at&has_isogenic_control=true&commercial_use=false",
    "/api/v1/donors/?page_size={n}",
    "/api/v1/qc/?page_size={n}",
    "/api/v1/institutions/?page_size={n}",
]


def test_list_page_queries_do_not_grow_with_page_size(big_catalog, request):
    for role in ("anonymous", "researcher", "depositor", "curator"):
        client = client_for(None if role == "anonymous" else request.getfixturevalue(role))
        for url in LIST_URLS:
            client.get(url.format(n=1))  # warm per-process caches (content types, groups)
            small = queries_for(client, url.format(n=5))
            large = queries_for(client, url.format(n=100))
            assert small == large, f"{role} {url}: {small} queries for 5 items, {large} for 100"
            assert large <= 10, (role, url, large)


def test_export_queries_do_not_grow_per_line(big_catalog, researcher):
    client = client_for(researcher)
    client.get("/api/v1/lines/?page_size=1")  # warm the role cache
    few = queries_for(client, "/api/v1/lines/export.json?search=ukbi00")
    many = queries_for(client, "/api/v1/lines/export.json")
    # One query for lines and one per prefetch, per chunk of 1000: 105 lines fit one chunk.
    assert few == many
