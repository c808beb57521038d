"""Deeply nested JSON is refused with a 400 that names the limit, wherever the
catalog reads a client's JSON: 100,000 "[" made Python's parser raise RecursionError
(a 500) on nine endpoints, anonymous /api/v1/eligibility/ among them."""

import pytest

from core.parsers import JSON_MAX_DEPTH, load_json
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000


def test_json_as_deep_as_the_limit_parses_and_one_level_more_is_refused():
    assert load_json("[" * JSON_MAX_DEPTH + "]" * JSON_MAX_DEPTH)
    with pytest.raises(ValueError, match="deeper than 1,024 levels"):
        load_json("[" * (JSON_MAX_DEPTH + 1) + "]" * (JSON_MAX_DEPTH + 1))
    with pytest.raises(ValueError, match="deeper than 1,024 levels"):
        load_json('{"a": ' * 2000 + "1" + "}" * 2000)


@pytest.mark.parametrize("url", ["/api/v1/eligibility/", "/api/v1/str/search/", "/api/v1/str/compare/"])
def test_an_anonymous_deep_body_is_a_400_naming_the_limit(api_client, url):
    response = api_client.post(url, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "deeper than 1,024 levels" in response.json()["detail"]


def test_a_deep_submission_body_is_a_400_and_no_submission(depositor):
    response = client_for(depositor).post("/api/v1/submissions/", DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "deeper than 1,024 levels" in response.json()["detail"]


def test_a_deep_pasted_document_is_a_form_error(client, depositor):
    client.force_login(depositor)
    response = client.post("/submissions/new/", {"pasted": DEEP})
    assert response.status_code == 400  # the form again, with the error beside the field
    assert "deeper than 1,024 levels" in response.content.decode()
