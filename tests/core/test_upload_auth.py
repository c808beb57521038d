"""The multipart uploads answer 401 to a missing or bad token (schemathesis's own
auth check cannot test them: its re-sent multipart request keeps the token)."""

import io

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

UPLOADS = [
    ("/api/v1/datasets/", {"format": "csv", "assay": "mea_firing_rate"}, "document"),
    ("/api/v1/submissions/", {"format": "csv"}, "file"),
]
BAD = [{}, {"HTTP_AUTHORIZATION": "Token 0123456789abcdef0123456789abcdef01234567"}]


@pytest.mark.parametrize(("url", "fields", "file_field"), UPLOADS)
@pytest.mark.parametrize("auth", BAD, ids=["no token", "bad token"])
def test_an_upload_without_a_valid_token_is_a_401(url, fields, file_field, auth, curator):
    upload = io.BytesIO(b"line,value\nUKBi001-A,1\n")
    upload.name = "table.csv"

    response = Client().post(url, {**fields, file_field: upload}, **auth)

    assert response.status_code == 401
    assert "detail" in response.json()
