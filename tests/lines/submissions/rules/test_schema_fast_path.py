"""The compiled jsonschema-rs validator and jsonschema agree on every protocol version:
a clean document is passed by the fast one with no Python walk, and every document
with a schema error still gets jsonschema's located, rewritten finding."""

import copy

import pytest

from lines.models import ProtocolVersion
from lines.submissions.rules.schema import fast_schema_validator, schema_validator
from lines.submissions.validation import validate_document
from tests.documents import valid_document
from tests.lines.submissions.protocol_cases import BREAKS, PASSES

pytestmark = pytest.mark.django_db

# Every case of the protocol's rule tables: a change that breaks a rule, one that passes.
CASES = [(name, case[2]) for name, case in BREAKS.items()] + [(name, case[1]) for name, case in PASSES.items()]


@pytest.mark.parametrize(("name", "change"), CASES, ids=[name for name, _ in CASES])
def test_the_two_validators_agree(name, change):
    protocols = list(ProtocolVersion.objects.all())
    assert protocols
    for protocol in protocols:
        document = copy.deepcopy(valid_document(3, lines_per_donor=2))
        change(document)
        python_errors = list(schema_validator(protocol).iter_errors(document))
        assert fast_schema_validator(protocol).is_valid(document) == (not python_errors), (name, protocol.number)


def test_a_schema_error_keeps_its_located_rewritten_message(owner_institution):
    protocol = ProtocolVersion.objects.get(number=1)
    document = valid_document(2, lines_per_donor=1)
    document["donors"][0]["sex"] = "F"
    findings = validate_document(document, protocol=protocol, institution=owner_institution)
    schema = [f for f in findings if f["rule"] == "SCHEMA"]
    assert len(schema) == 1
    assert schema[0]["location"] == "/donors/0/sex"
    assert schema[0]["message"].startswith('"F" is not allowed here; use one of:')


def test_a_clean_document_has_no_schema_finding(owner_institution):
    protocol = ProtocolVersion.objects.get(number=1)
    assert validate_document(valid_document(3), protocol=protocol, institution=owner_institution) == []
