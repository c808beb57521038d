"""Oversized bodies get a 413 that names the limit, and every Django-level error
under /api/ is JSON in the documented error schema ({"detail": ...}), never
Django's HTML "Bad Request". 54 MB and 150 MB uploads were accepted."""

import io
import json

import pytest
from django.test import Client

from tests.conftest import client_for
from tests.submission_helpers import SUBMISSIONS_URL

pytestmark = pytest.mark.django_db


def test_a_multipart_upload_over_the_limit_is_a_413_in_json_naming_it(depositor, settings):
    settings.UPLOAD_MAX_BYTES = 10_000
    upload = io.BytesIO(b"{}" + b" " * 20_000)
    upload.name = "deposit.json"
    response = client_for(depositor).post(SUBMISSIONS_URL, data={"file": upload}, format="multipart")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "at most 10,000 bytes" in response.json()["detail"]


def test_an_upload_on_a_page_over_the_limit_is_a_413_saying_it(depositor, settings):
    settings.UPLOAD_MAX_BYTES = 10_000
    browser = Client()
    browser.force_login(depositor)
    upload = io.BytesIO(b"{}" + b" " * 20_000)
    upload.name = "deposit.json"
    response = browser.post("/submissions/new/", data={"file": upload})
    assert response.status_code == 413
    assert "at most 10,000 bytes" in response.content.decode()


def test_a_raw_body_over_the_limit_is_a_413_in_json(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    body = json.dumps({"purpose": "x" * 5_000})
    response = Client().post("/api/v1/eligibility/", data=body, content_type="application/json")
    assert response.status_code == 413
    assert "at most 1,000 bytes" in response.json()["detail"]


def test_djangos_own_400_is_json_under_the_api():
    response = Client().get("/api/v1/lines/", HTTP_HOST="not-our-host.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_djangos_own_400_stays_a_page_outside_the_api():
    response = Client().get("/lines/", HTTP_HOST="not-our-host.example")
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")


def test_too_many_form_fields_under_the_api_is_a_json_400(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{i}=1" for i in range(50))
    response = Client().post("/api/v1/eligibility/", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
