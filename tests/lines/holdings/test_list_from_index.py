"""A filtered list answered from the facet index (its masks and precomputed orders,
lines.holdings.facet_index.FacetIndex.ranked) is byte for byte the list the SQL path
answers: every page, next and previous link, for every caller, filter and ordering."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lines.holdings import facet_index
from lines.holdings.facet_index import FacetIndex
from lines.models import CellLine
from tests.conftest import client_for
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory, VariantFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "researcher", "depositor", "other_depositor", "curator")
QUERIES = [
    "",
    "gene=SOD1",
    "gene=FUS",
    "gene=SOD1&commercial_use=true",
    "disease=MONDO:0004976&sex=female",
    "sex=male&qc_passed=false",
    "ancestry=European&age_min=40&age_max=70",
    "has_isogenic_control=true",
    "status=draft&status=released",
    "institution=UKB",
]
ORDERINGS = ["", "name", "-name", "released_at", "-released_at", "derived_on", "-created_at", "age", "-age"]


@pytest.fixture
def ordered_catalog(catalog, owner_institution, other_institution):
    """The page catalog plus lines with tied and missing release dates, ages and
    derivation dates, so every ordering has ties (broken by id) and nulls."""
    released = timezone.now() - datetime.timedelta(days=3)
    for index in range(14):
        institution = owner_institution if index % 2 else other_institution
        donor = DonorFactory(
            institution=institution,
            code=f"{institution.code}D1{index:02d}",
            donor_number=f"1{index:02d}",
            sex="female" if index % 3 else "male",
            ancestry="European",
            age_at_sampling=None if index % 5 == 0 else 40 + index % 4,
            age_at_onset=None,
        )
        ConsentFactory(
            donor=donor,
            genetic_data="open" if index % 2 else "controlled",
            codes=["DUO:0000042"] if index % 4 else ["DUO:0000042", "DUO:0000046"],
        )
        if index % 3 == 0:
            VariantFactory(donor=donor, gene="SOD1")
        CellLineFactory(
            donor=donor if index != 13 else None,
            institution=institution,
            name=f"{institution.code}i1{index:02d}-{'AB'[index % 2]}",
            status="draft" if index == 4 else "released",
            released_at=None if index % 4 == 0 else released + datetime.timedelta(hours=index % 3),
            derived_on=None if index % 3 == 0 else datetime.date(2024, 1, 1 + index % 2),
            qc_status="passed" if index % 2 else "failed",
        )
    return catalog


def _walk(client, url):
    """The bodies of every page forwards from `url`, then backwards from the last."""
    bodies = []
    previous = None
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        bodies.append(response.content)
        previous = response.json()["previous"]
        url = response.json()["next"]
        assert len(bodies) < 50
    while previous:
        response = client.get(previous)
        assert response.status_code == 200, response.content
        bodies.append(response.content)
        previous = response.json()["previous"]
        assert len(bodies) < 100
    return bodies


def _answer(monkeypatch, index, client, url):
    monkeypatch.setattr(facet_index, "current_index", lambda: index)
    return _walk(client, url)


@pytest.mark.parametrize("role", ROLES)
def test_the_index_pages_every_list_as_sql_does(request, monkeypatch, ordered_catalog, role):
    client = client_for(None if role == "anonymous" else request.getfixturevalue(role))
    index = FacetIndex("test")
    for query in QUERIES:
        for ordering in ORDERINGS:
            params = "&".join(p for p in (query, f"ordering={ordering}" if ordering else "", "page_size=3") if p)
            url = f"/api/v1/lines/?{params}"
            from_sql = _answer(monkeypatch, None, client, url)
            from_index = _answer(monkeypatch, index, client, url)
            assert from_index == from_sql, (role, url)


def test_the_index_answers_the_page_without_the_filters_query(monkeypatch, ordered_catalog, researcher):
    client = client_for(researcher)
    url = "/api/v1/lines/?gene=SOD1&commercial_use=true&ordering=-released_at"
    monkeypatch.setattr(facet_index, "current_index", lambda: FacetIndex("test"))
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    # No query filters by the gene: the page's rows are read by id.
    assert not any("SOD1" in query["sql"] for query in context.captured_queries)


def test_an_ordering_the_index_lacks_is_answered_by_sql(monkeypatch, ordered_catalog, curator):
    client = client_for(curator)
    url = "/api/v1/lines/?ordering=age,-name&page_size=4"
    from_sql = _answer(monkeypatch, None, client, url)
    assert _answer(monkeypatch, FacetIndex("test"), client, url) == from_sql


def test_a_cursor_whose_line_changed_is_answered_by_sql(monkeypatch, ordered_catalog, curator):
    client = client_for(curator)
    index = FacetIndex("test")
    monkeypatch.setattr(facet_index, "current_index", lambda: index)
    first = client.get("/api/v1/lines/?ordering=released_at&page_size=2").json()
    last_name = first["results"][-1]["name"]
    CellLine.objects.filter(name=last_name).update(released_at=timezone.now() + datetime.timedelta(days=1))
    from_index = client.get(first["next"]).content
    monkeypatch.setattr(facet_index, "current_index", lambda: None)
    assert from_index == client.get(first["next"]).content
