"""Brute-force protection: sign-ins lock out per account and per address (django-axes)
on the site, the API's and the admin's sign-in pages, and the page says so; failed
token authentication is throttled per address (429). 30 wrong passwords each once
answered 200 and the right one then signed in; 130 bad tokens never met a 429."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

SIGN_INS = ["/accounts/login/", "/api-auth/login/", "/admin/login/"]


@pytest.fixture
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.TOKEN_FAILURE_LIMIT = 4


def _sign_in(client, url, username, password):
    return client.post(url, {"username": username, "password": password})


@pytest.mark.parametrize("url", SIGN_INS)
def test_an_account_is_locked_after_the_limit_even_for_the_right_password(limits, curator, url):
    client = Client()
    for _ in range(2):
        assert _sign_in(client, url, "cora", "wrong").status_code == 200
    assert _sign_in(client, url, "cora", "wrong").status_code == 429  # the third failure locks
    locked = _sign_in(Client(REMOTE_ADDR="10.0.0.9"), url, "cora", "pw-cora-123")
    assert locked.status_code == 429
    assert "_auth_user_id" not in locked.client.session


def test_the_login_page_says_the_account_is_locked(limits, researcher):
    client = Client()
    for _ in range(3):
        _sign_in(client, "/accounts/login/", "rita", "wrong")
    page = _sign_in(client, "/accounts/login/", "rita", "pw-rita-123")
    assert page.status_code == 429
    text = page.content.decode()
    assert "Too many failed sign-ins" in text and "Try again in 15 minutes" in text
    assert 'name="username"' in text  # the form is still there for later


def test_an_address_is_locked_across_accounts(limits, researcher, curator):
    client = Client(REMOTE_ADDR="10.0.0.7")
    for name in ("nobody-1", "nobody-2", "nobody-3"):
        _sign_in(client, "/accounts/login/", name, "guess")
    assert _sign_in(client, "/accounts/login/", "rita", "pw-rita-123").status_code == 429
    # Another address may still sign in to the same account.
    assert _sign_in(Client(REMOTE_ADDR="10.0.0.8"), "/accounts/login/", "rita", "pw-rita-123").status_code == 302


def test_a_success_before_the_limit_resets_the_count(limits, researcher):
    client = Client()
    for _ in range(2):
        _sign_in(client, "/accounts/login/", "rita", "wrong")
    assert _sign_in(client, "/accounts/login/", "rita", "pw-rita-123").status_code == 302
    for _ in range(2):
        _sign_in(Client(), "/accounts/login/", "rita", "wrong")
    assert _sign_in(Client(), "/accounts/login/", "rita", "pw-rita-123").status_code == 302


def test_bad_tokens_from_one_address_meet_a_429(limits, researcher):
    good = Token.objects.get_or_create(user=researcher)[0].key
    bad = APIClient(REMOTE_ADDR="10.0.0.5")
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    for _ in range(4):
        assert bad.get("/api/v1/lines/").status_code == 401
    throttled = bad.get("/api/v1/lines/")
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert "Too many bad tokens" in throttled.json()["detail"]
    # The address is throttled whatever it sends now; another address is not.
    bad.credentials(HTTP_AUTHORIZATION=f"Token {good}")
    assert bad.get("/api/v1/lines/").status_code == 429
    other = APIClient(REMOTE_ADDR="10.0.0.6")
    other.credentials(HTTP_AUTHORIZATION=f"Token {good}")
    assert other.get("/api/v1/lines/").status_code == 200
