"""The OpenAPI schema says what the API answers: schemathesis found
`Submission.decided_by` typed as a non-null string but null in answers."""

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
