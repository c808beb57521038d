"""An API token does not survive a password change or reset: it is replaced, the
person is told, and the token page says it will be. /accounts/token/ is sent with
Cache-Control: no-store (it shows a secret)."""

import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _works(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/submissions/").status_code != 401


def test_changing_the_password_replaces_the_token(depositor):
    old = Token.objects.get(user=depositor).key
    client = Client()
    client.force_login(depositor)
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "pw-dora-123",
            "new_password1": "a-new-long-passphrase",
            "new_password2": "a-new-long-passphrase",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "Your API token was replaced" in response.content.decode()
    new = Token.objects.get(user=depositor).key
    assert new != old
    assert not _works(old) and _works(new)


def test_resetting_the_password_replaces_the_token(depositor):
    depositor.email = "dora@example.org"
    depositor.save()
    old = Token.objects.get(user=depositor).key
    client = Client()
    client.post("/accounts/password_reset/", {"email": "dora@example.org"})
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link).url
    response = client.post(
        form_url, {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"}, follow=True
    )
    assert "Password changed" in response.content.decode()
    assert not _works(old)
    assert Token.objects.get(user=depositor).key != old


def test_the_token_page_says_so_and_is_never_stored(depositor):
    client = Client()
    client.force_login(depositor)
    response = client.get("/accounts/token/")
    assert "no-store" in response["Cache-Control"]
    assert "replaced whenever your password is changed" in " ".join(response.content.decode().split())
