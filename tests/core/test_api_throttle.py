"""Throttling: per anonymous address and per user, with a clear 429."""

import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(monkeypatch):
    # DRF reads the rates into the throttle class at import; set them where they are read.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "5/min"})
    cache.clear()
    yield
    cache.clear()


def test_anonymous_callers_get_a_clear_429_after_their_rate(low_rates, api_client):
    statuses = [api_client.get("/api/v1/institutions/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api_client.get("/api/v1/institutions/")
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"].lower()
    assert int(response["Retry-After"]) > 0


def test_users_are_throttled_separately_from_each_other(low_rates, researcher, curator):
    rita, cora = client_for(researcher), client_for(curator)
    assert [rita.get("/api/v1/lines/").status_code for _ in range(6)] == [200] * 5 + [429]
    assert cora.get("/api/v1/lines/").status_code == 200
