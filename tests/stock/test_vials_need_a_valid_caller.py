"""The vial list (storage positions) answers 401 to a missing, malformed or bad token,
and a bad token is refused even beside a signed-in session."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("header", [None, "Token nonsense", "Token", "garbage", "Bearer x"])
def test_the_vial_list_refuses_a_caller_without_a_valid_token(curator, header):
    client = APIClient()
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    assert client.get("/api/v1/vials/", **extra).status_code == 401


def test_a_bad_token_is_refused_beside_a_session(curator):
    client = APIClient()
    client.force_login(curator)
    assert client.get("/api/v1/vials/", HTTP_AUTHORIZATION="Token nonsense").status_code == 401
