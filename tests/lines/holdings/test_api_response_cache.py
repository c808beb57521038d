"""The list and facets API keep their JSON in the shared cache under the catalog
version and who is looking: a write shows in the next response, and callers who see
different lines never share an entry."""

import pytest
from django.core.cache import cache

from lines.models import CellLine
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

URLS = ["/api/v1/lines/?sex=male", "/api/v1/lines/facets/?sex=male"]


@pytest.mark.parametrize("url", URLS)
def test_a_write_changes_the_next_response(catalog, url):
    client = client_for(None)
    first = client.get(url).content
    assert client.get(url).content == first  # the cached answer
    CellLine.objects.filter(pk=catalog["fus"].pk).update(qc_status="passed", vials_in_stock=0, status="draft")
    assert client.get(url).content != first


@pytest.mark.parametrize("url", URLS)
def test_anonymous_and_curator_never_share_an_entry(catalog, curator, url):
    anonymous = client_for(None).get(url).content
    curated = client_for(curator).get(url).content
    assert anonymous != curated  # the curator sees the draft and the hidden genetic data
    cache.clear()
    assert client_for(curator).get(url).content == curated
    assert client_for(None).get(url).content == anonymous


def test_a_cached_response_is_the_fresh_one(catalog, researcher):
    client = client_for(researcher)
    url = "/api/v1/lines/?page_size=2&facets=true"
    fresh = client.get(url)
    cached = client.get(url)
    assert cached.content == fresh.content
    assert cached["Content-Type"] == fresh["Content-Type"]
