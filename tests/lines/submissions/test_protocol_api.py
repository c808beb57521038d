"""The protocol as served: its versions, JSON Schema, rules page and blank templates."""

import io
import zipfile

import jsonschema
import pytest
from openpyxl import load_workbook

from lines.submissions.protocol import RULE_IDS
from tests.conftest import client_for
from tests.documents import valid_document

pytestmark = pytest.mark.django_db


def test_the_schema_is_served_and_validates_the_example(api_client):
    response = api_client.get("/api/v1/protocol/1/schema.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/schema+json"
    schema = response.json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator(schema).validate(valid_document(2))


def test_an_unknown_version_is_404(api_client):
    assert api_client.get("/api/v1/protocol/7/schema.json").status_code == 404


@pytest.mark.parametrize("who", [None, "researcher", "depositor", "curator"])
def test_everyone_can_list_protocol_versions(request, who):
    user = request.getfixturevalue(who) if who else None
    response = client_for(user).get("/api/v1/protocol/")
    assert response.status_code == 200
    v1, v2, v3 = response.json()
    assert v1["identifier"] == "prism-line-submission/1"
    assert v1["schema_url"].endswith("/api/v1/protocol/1/schema.json")
    assert v2["identifier"] == "prism-line-submission/2"  # lots (issue 13); version 1 still accepted
    assert v3["identifier"] == "prism-line-submission/3"  # clinical course (issue 15)


def test_a_version_lists_its_rules_and_thresholds(api_client):
    body = api_client.get("/api/v1/protocol/1/").json()
    assert [r["id"] for r in body["rules"]] == RULE_IDS
    assert body["settings"]["min_karyotype_bands"] == 400
    assert body["settings"]["str_match_threshold"] == 80


def test_the_api_serves_the_blank_templates(api_client):
    xlsx = api_client.get("/api/v1/protocol/1/template.xlsx")
    assert xlsx.status_code == 200
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames[1:] == [
        "donors",
        "variants",
        "lines",
        "qc",
        "lots",
        "vials",
    ]
    archive = zipfile.ZipFile(io.BytesIO(api_client.get("/api/v1/protocol/1/template.zip").content))
    assert "lines.csv" in archive.namelist()
    assert api_client.get("/api/v1/protocol/1/example.json").json()["protocol"] == "prism-line-submission/1"
    assert api_client.get("/api/v1/protocol/1/template.pdf").status_code == 404


def test_the_protocol_page_documents_every_rule_with_an_example(client):
    response = client.get("/protocol/", follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    for rule_id in RULE_IDS:
        assert f'id="{rule_id}"' in page
    assert "UKBi001-A-2" in page  # NAME-4's example
    assert "min_karyotype_bands" in page
