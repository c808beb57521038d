"""schemathesis's stateful phase: sequences of calls (create, then read, act on and
list what was made, following the links schemathesis infers from the schema) as a
researcher and as a curator, each with their own token, with all of schemathesis's
checks. No answer may be a server error or disagree with the schema, a schema-valid
request may not be refused, nor an invalid one accepted.

PRISM_SCHEMATHESIS_STEPS (default 6) sets the steps per sequence and
PRISM_SCHEMATHESIS_SEQUENCES (default 4) the sequences per role; CI runs the defaults."""

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from tests.prism.test_api_schemathesis import _openapi, callers  # noqa: F401 — callers is a fixture

pytestmark = pytest.mark.django_db

STEPS = int(os.environ.get("PRISM_SCHEMATHESIS_STEPS", "6"))
SEQUENCES = int(os.environ.get("PRISM_SCHEMATHESIS_SEQUENCES", "4"))

# Operations whose 400 can depend on what the content means (a file that is not a
# measurement table, a line or vial that does not exist, a step the workflow is not
# at): no OpenAPI schema can say that, so schemathesis's positive-data check also
# takes a 400 from them, and every other check runs as it is.
# A list's `cursor` is opaque (the next/previous links carry it): any other string is
# refused, which no pattern can say either.
OPENAPI = _openapi()
SEMANTIC_REFUSALS = [
    ("POST", "/api/v1/datasets/"),
    *(
        (method.upper(), path)
        for path, operations in OPENAPI["paths"].items()
        for method, operation in operations.items()
        if any(parameter["name"] == "cursor" for parameter in operation.get("parameters", []))
    ),
]
CHECKS_CONFIG = {
    "phases": {"stateful": {"enabled": True}},
    "operations": [
        {
            "include-method": method,
            "include-path": path,
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]
                }
            },
        }
        for method, path in SEMANTIC_REFUSALS
    ],
}
schema = schemathesis.openapi.from_dict(OPENAPI, config=schemathesis.Config.from_dict(CHECKS_CONFIG))
schema.app = get_wsgi_application()

# The caller's token, set by the test for its role.
TOKEN = {"key": ""}


@schema.auth(refresh_interval=None)  # no caching: each role has its own token
class CallerToken:
    """The caller's token through schemathesis's own auth hook, so that its checks know
    the credentials are the caller's (not generated ones), take them off to probe that
    the API refuses a request without them, and send no generated `sessionid` cookie
    beside them."""

    def get(self, case, context):
        return TOKEN["key"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Token {data}"}


Workflow = schema.as_state_machine()


@pytest.mark.usefixtures("callers")  # the catalog the single-call test reads too
@pytest.mark.parametrize("role", ["researcher", "curator"])
def test_api_sequences_conform_to_the_schema(role, request):
    user = request.getfixturevalue(role)
    TOKEN["key"] = Token.objects.get_or_create(user=user)[0].key

    calls = []

    class AsRole(Workflow):
        def call(self, case, **kwargs):
            response = super().call(case, **kwargs)
            calls.append((f"{case.method} {case.path}", response.status_code))
            return response

        # No override of validate_response: every schemathesis check runs on every step
        # (server errors, status codes, content types, headers and bodies against the
        # schema, negative data refused, positive data accepted, auth really checked,
        # use after free, resources available after creation, ...).

    AsRole.run(
        settings=settings(
            max_examples=SEQUENCES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    # Sequences, not single calls: some steps follow a link from an earlier answer.
    assert len(calls) > SEQUENCES, calls
    # The token reached the API: some calls were answered, not all refused.
    assert any(200 <= status < 300 for _, status in calls), calls
