"""The OpenAPI schema says what the API answers: schemathesis found
`Submission.decided_by` typed as a non-null string but null in answers."""

import re

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.conftest import client_for
from tests.submission_helpers import SUBMISSIONS_URL, as_bytes, submission_document

pytestmark = pytest.mark.django_db


def _component(name):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return schema["components"]["schemas"][name]


def test_an_undecided_submission_answers_a_null_decided_by_and_the_schema_says_so(depositor):
    response = client_for(depositor).post(
        SUBMISSIONS_URL, data=as_bytes(submission_document(1)), content_type="application/json"
    )
    body = client_for(depositor).get(f"{SUBMISSIONS_URL}{response.json()['id']}/").json()
    assert body["decided_by"] is None
    declared = _component("SubmissionDetail")["properties"]["decided_by"]
    # OpenAPI 3.0's nullable, as JSON Schema understands it.
    jsonschema.validate(
        body["decided_by"], {"type": [declared["type"], "null"] if declared.get("nullable") else declared["type"]}
    )


def test_the_schema_declares_exactly_the_orderings_the_api_accepts(researcher):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    params = schema["paths"]["/api/v1/lines/"]["get"]["parameters"]
    pattern = re.compile(next(p for p in params if p["name"] == "ordering")["schema"]["pattern"])
    client = client_for(researcher)
    assert pattern.match("-name,name") and client.get("/api/v1/lines/?ordering=-name,name").status_code == 200
    # Schema-valid before (any string up to 200 characters), refused by the API:
    assert not pattern.match("0") and client.get("/api/v1/lines/?ordering=0").status_code == 400
    assert not pattern.match("name,") and not pattern.match("nameX")
