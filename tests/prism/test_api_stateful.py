"""schemathesis's stateful phase: sequences of calls (create, then read, act on and
list what was made, following the links schemathesis infers from the schema) as a
researcher and as a curator, each with their own token. No answer may be a server
error or disagree with the schema.

PRISM_SCHEMATHESIS_STEPS (default 6) sets the steps per sequence and
PRISM_SCHEMATHESIS_SEQUENCES (default 4) the sequences per role; CI runs the defaults."""

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from tests.prism.test_api_schemathesis import CHECKS, _openapi, callers  # noqa: F401 — callers is a fixture

pytestmark = pytest.mark.django_db

STEPS = int(os.environ.get("PRISM_SCHEMATHESIS_STEPS", "6"))
SEQUENCES = int(os.environ.get("PRISM_SCHEMATHESIS_SEQUENCES", "4"))

schema = schemathesis.openapi.from_dict(
    _openapi(), config=schemathesis.Config.from_dict({"phases": {"stateful": {"enabled": True}}})
)
schema.app = get_wsgi_application()
Workflow = schema.as_state_machine()


@pytest.mark.usefixtures("callers")  # the catalog the single-call test reads too
@pytest.mark.parametrize("role", ["researcher", "curator"])
def test_api_sequences_conform_to_the_schema(role, request):
    user = request.getfixturevalue(role)
    headers = {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}

    calls = []

    class AsRole(Workflow):
        def call(self, case, **kwargs):
            calls.append(f"{case.method} {case.path}")
            return super().call(case, **kwargs)

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

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
