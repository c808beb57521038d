"""schemathesis against the OpenAPI schema: every operation of /api/v1/, random valid
and invalid inputs, as a curator (who reaches every code path) and, for reads, as
an anonymous caller. No response may be a server error or disagree with the
schema (status code, content type, body).

PRISM_SCHEMATHESIS_EXAMPLES (default 4) sets the examples per operation, and
PRISM_SCHEMATHESIS_COVERAGE=1 adds schemathesis's coverage phase (every boundary
and invalid value of every parameter; several minutes) for a deeper run.
"""

import datetime
import json
import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lines.search_text import refresh_search_text
from tests.factories import (
    CellLineFactory,
    ConsentFactory,
    DonorFactory,
    QCRecordFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = int(os.environ.get("PRISM_SCHEMATHESIS_EXAMPLES", "4"))
COVERAGE = os.environ.get("PRISM_SCHEMATHESIS_COVERAGE", "0") == "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _openapi():
    # The same document /api/schema/ serves, built without an HTTP round trip so that
    # collecting the tests needs no database.
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document, renderer_context={}))


schema = schemathesis.openapi.from_dict(
    _openapi(),
    config=schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": COVERAGE}}}),
)
schema.app = get_wsgi_application()


@pytest.fixture
def callers(owner_institution, curator):
    # A released line with everything a detail shows, and a draft: enough for every
    # code path of the representation, small enough to build per operation.
    donor = DonorFactory(code="PD-FUZZ1", institution=owner_institution, donor_number="001")
    ConsentFactory(donor=donor, genetic_data="open", codes=["DUO:0000042", "DUO:0000021"])
    VariantFactory(donor=donor)
    parent = CellLineFactory(
        name="UKBi001-A",
        donor=donor,
        cellosaurus_accession="CVCL_ZZ01",
        released_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
    )
    CellLineFactory(
        name="UKBi001-A-1",
        donor=donor,
        parental_line=parent,
        status="draft",
        modification_type="knock_in",
    )
    QCRecordFactory(line=parent)
    refresh_search_text(parent.__class__.objects.all())
    return {
        "curator": {"Authorization": f"Token {Token.objects.get(user=curator).key}"},
        "anonymous": {},
    }


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, callers):
    case.call_and_validate(headers=callers["curator"], checks=CHECKS)
    if case.method == "GET":
        case.call_and_validate(headers=callers["anonymous"], checks=CHECKS)
