"""/metrics (django-prometheus): request counts and latency by view, the catalog's
gauges (submissions by status, queue lengths); only for a scraper with the token,
or from a loopback address when no token is set."""

import pytest
from django.test import Client

from tests.factories import SubmissionFactory

pytestmark = pytest.mark.django_db


def test_metrics_count_requests_and_submissions(settings):
    settings.METRICS_TOKEN = ""
    client = Client()
    client.get("/api/v1/lines/")
    SubmissionFactory()
    body = client.get("/metrics").content.decode()
    assert "django_http_requests_total_by_view_transport_method_total" in body
    assert 'prism_submissions{status="received"} 1.0' in body
    assert "django_http_requests_latency_seconds_by_view_method" in body
    assert 'django_db_execute_total{alias="default"' in body  # queries, by database


def test_metrics_need_the_token_when_one_is_set(settings):
    settings.METRICS_TOKEN = "scrape-secret"
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200


def test_metrics_are_not_for_other_addresses(settings):
    settings.METRICS_TOKEN = ""
    assert Client(REMOTE_ADDR="203.0.113.9").get("/metrics").status_code == 404
