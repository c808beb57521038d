"""/cohorts/: anonymous visitors are asked to sign in; a researcher proposes (in
place with htmx), saves, opens the cohort's page and drafts one request; others
get a 404 for a private cohort."""

import pytest
from django.test import Client

from cohorts.models import Cohort
from distribution.models import DistributionRequest
from tests.cohorts.helpers import GRU, three_arm_catalog

pytestmark = pytest.mark.django_db

FORM = {
    "arm1_name": "C9orf72",
    "arm1_filters": "gene=C9orf72",
    "arm1_size": "3",
    "arm2_name": "sporadic",
    "arm2_filters": "family_history=sporadic&affection_status=affected",
    "arm2_size": "3",
    "arm3_name": "control",
    "arm3_filters": "affection_status=unaffected",
    "arm3_size": "3",
    "arm3_matched_to": "1",
    "purpose": GRU,
    "match_on": ["sex", "age", "ancestry"],
    "isogenic": "on",
    "seed": "5",
}


def client_of(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_anonymous_visitors_are_asked_to_sign_in():
    page = client_of(None).get("/cohorts/")
    assert page.status_code == 200 and b"Sign in to build a cohort" in page.content
    assert client_of(None).post("/cohorts/propose/", FORM).status_code == 302


def test_the_nav_links_the_builder(researcher):
    assert b'href="/cohorts/"' in client_of(researcher).get("/").content


def test_a_proposal_shows_members_balance_and_exclusions_in_place(researcher):
    three_arm_catalog()
    page = client_of(researcher).post("/cohorts/propose/", FORM, HTTP_HX_REQUEST="true")
    text = page.content.decode()
    assert page.status_code == 200 and "<html" not in text
    assert 'id="balance"' in text and "SMD control" in text and 'id="exclusions"' in text
    assert text.count('data-arm="') == 3


def test_an_impossible_cohort_shows_the_failed_constraint(researcher):
    three_arm_catalog()
    page = client_of(researcher).post("/cohorts/propose/", {**FORM, "arm3_size": "8"}, HTTP_HX_REQUEST="true")
    assert b'id="failed-constraint">matching' in page.content


def test_saving_opens_the_cohort_page_and_one_request_is_drafted(researcher, other_depositor):
    three_arm_catalog()
    client = client_of(researcher)
    saved = client.post("/cohorts/save/", {**FORM, "name": "C9 screen"})
    cohort = Cohort.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/cohorts/{cohort.public_id}/"
    page = client.get(saved["Location"])
    assert b"plate-map" in page.content and b"C9 screen" in page.content
    assert client_of(other_depositor).get(saved["Location"]).status_code == 404
    made = client.post(f"/cohorts/{cohort.public_id}/request/", {"shipping_address": "Lab 3"})
    request = DistributionRequest.objects.get()
    assert made["Location"] == f"/distribution/requests/{request.pk}/"
    assert request.items.count() == cohort.members.count() == 9


def test_saving_a_bad_definition_is_a_400_saying_where(researcher):
    page = client_of(researcher).post("/cohorts/save/", {**FORM, "arm1_size": "zero"})
    assert page.status_code == 400 and b"arms[0].size" in page.content
    assert not Cohort.objects.exists()
