"""The schema says what the API accepts (schemathesis found schema-valid requests
refused): the lengths and characters of path lookups, the DUO purpose codes, and
that no text may hold a NUL character, which is refused with a 400 wherever it
comes in (query, path, JSON body, a JSON document), never a 500."""

import json
import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from core.nul_characters import NO_NUL_PATTERN
from donors.duo import PURPOSE_CODES
from tests.conftest import client_for
from tests.factories import CellLineFactory
from tests.submission_helpers import SUBMISSIONS_URL, submission_document

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _path_parameter(schema, path, name):
    parameters = schema["paths"][path]["get"]["parameters"]
    return next(p for p in parameters if p["name"] == name and p["in"] == "path")["schema"]


@pytest.mark.parametrize(
    ("path", "name", "longest"),
    [
        ("/api/v1/lines/{name}/", "name", 40),
        ("/api/v1/donors/{code}/", "code", 20),
        ("/api/v1/institutions/{code}/", "code", 6),
    ],
)
def test_a_lookup_is_declared_as_the_api_checks_it(schema, researcher, path, name, longest):
    pattern = re.compile(_path_parameter(schema, path, name)["pattern"])
    client = client_for(researcher)

    assert pattern.match("A" * longest) and client.get(path.replace(f"{{{name}}}", "A" * longest)).status_code == 404
    # Schema-valid before (any string), refused by the API:
    too_long = "A" * (longest + 1)
    assert not pattern.match(too_long) and client.get(path.replace(f"{{{name}}}", too_long)).status_code == 400
    assert not pattern.match("A\tB") and client.get(path.replace(f"{{{name}}}", "A%09B")).status_code == 400


def test_a_qc_record_id_is_declared_as_a_whole_number(schema, researcher):
    pattern = re.compile(_path_parameter(schema, "/api/v1/qc/{record_id}/", "record_id")["pattern"])
    client = client_for(researcher)

    assert pattern.match("12") and client.get("/api/v1/qc/12/").status_code == 404
    assert not pattern.match("1x") and client.get("/api/v1/qc/1x/").status_code == 400


def test_the_schema_lists_the_purpose_codes_the_api_accepts(schema, researcher):
    codes = schema["components"]["schemas"]["ResearchPurposeCodeEnum"]["enum"]
    line = CellLineFactory(name="UKBi001-A")
    client = client_for(researcher)

    assert sorted(codes) == sorted(PURPOSE_CODES)
    for code in codes:
        purpose = {"codes": [code], "disease": "MONDO:0004976" if code == "DUO:0000007" else None}
        response = client.post(
            "/api/v1/eligibility/", {"purpose": purpose, "lines": [line.name]}, content_type="application/json"
        )
        assert response.status_code == 200, (code, response.json())
    # Not a purpose (a consent code): outside the enum, and refused.
    response = client.post(
        "/api/v1/eligibility/",
        {"purpose": {"codes": ["DUO:0000004"]}, "lines": [line.name]},
        content_type="application/json",
    )
    assert "DUO:0000004" not in codes and response.status_code == 400


def _string_schemas(node, inside=""):
    if isinstance(node, dict):
        if node.get("type") == "string" and not node.get("readOnly"):
            yield inside, node
        for key, item in node.items():
            yield from _string_schemas(item, f"{inside}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _string_schemas(item, f"{inside}/{index}")


def test_every_text_the_api_reads_is_declared_without_nul_characters(schema):
    nul = "a\x00b"
    undeclared = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            places = [*operation.get("parameters", []), *operation.get("requestBody", {}).get("content", {}).values()]
            for where, string in _string_schemas(places):
                if "enum" in string or "format" in string:
                    continue
                if "pattern" not in string or re.search(string["pattern"], nul):
                    undeclared.append(f"{method} {path} {where}")
    for name in ("ResearchPurposeRequest", "EligibilityInputRequest", "DistributionRequestCreateRequest"):
        for where, string in _string_schemas(schema["components"]["schemas"][name]):
            if "enum" not in string and "format" not in string and string.get("pattern") != NO_NUL_PATTERN:
                undeclared.append(f"{name}{where}")
    assert undeclared == []


def test_a_nul_character_is_a_400_wherever_it_comes_in(researcher, depositor):
    client = client_for(researcher)
    line = CellLineFactory(name="UKBi001-A")

    answers = {
        "query": client.get("/api/v1/lines/", {"search": "a\x00b"}),
        "path": client.get("/api/v1/lines/UKBi%00001-A/"),
        "json field": client.post(
            "/api/v1/eligibility/",
            {"purpose": {"codes": ["DUO:0000042"]}, "lines": [f"{line.name}\x00"]},
            content_type="application/json",
        ),
    }
    document = submission_document(1)
    document["lines"][0]["name"] = "UKBi001-A\x00"
    answers["json document"] = client_for(depositor).post(
        SUBMISSIONS_URL, data=json.dumps(document), content_type="application/json"
    )

    assert {where: answer.status_code for where, answer in answers.items()} == dict.fromkeys(answers, 400)
    assert "NUL character (\\u0000) at $.lines[0].name" in answers["json document"].json()["detail"]
