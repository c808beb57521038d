"""E-mail links point where the site lives: SITE_URL when it is set, else the address
the site was reached at (a worker sending mail has no request to ask)."""

import re

import pytest
from django.test import Client, override_settings

from distribution.actions import requests as actions

pytestmark = pytest.mark.django_db


def _link(mailoutbox):
    return re.search(r"https?://\S+/distribution/requests/\d+/", mailoutbox[-1].body).group(0)


@override_settings(SITE_URL="", ALLOWED_HOSTS=["catalog.bank.example"])
def test_without_site_url_mail_links_to_the_address_the_site_was_reached_at(
    make_request, requester, curator, mailoutbox, django_capture_on_commit_callbacks
):
    Client().get("/", HTTP_HOST="catalog.bank.example", secure=True)
    request = make_request("submitted")
    with django_capture_on_commit_callbacks(execute=True):
        actions.start_review(request, curator)
    assert _link(mailoutbox) == f"https://catalog.bank.example/distribution/requests/{request.pk}/"


@override_settings(SITE_URL="https://prism.example.org/", ALLOWED_HOSTS=["catalog.bank.example"])
def test_site_url_wins_when_it_is_set(make_request, requester, curator, mailoutbox, django_capture_on_commit_callbacks):
    Client().get("/", HTTP_HOST="catalog.bank.example")
    request = make_request("submitted")
    with django_capture_on_commit_callbacks(execute=True):
        actions.start_review(request, curator)
    assert _link(mailoutbox) == f"https://prism.example.org/distribution/requests/{request.pk}/"


@override_settings(SITE_URL="", ALLOWED_HOSTS=["catalog.bank.example", "localhost"])
def test_a_health_check_by_an_internal_name_does_not_become_the_mail_address(
    make_request, requester, curator, mailoutbox, django_capture_on_commit_callbacks
):
    Client().get("/", HTTP_HOST="catalog.bank.example", secure=True)
    Client().get("/health/", HTTP_HOST="localhost")
    request = make_request("submitted")
    with django_capture_on_commit_callbacks(execute=True):
        actions.start_review(request, curator)
    assert _link(mailoutbox).startswith("https://catalog.bank.example/")
