"""Uploaded JSON and CSV in another encoding: decoded right when a byte-order mark
(or UTF-16's NULs) says what it is, else refused naming the encoding found and
asking for UTF-8. Latin-1 or UTF-16 JSON was "surrogates not allowed" at line 1,
column 1; a UTF-16 CSV gave 114 findings with mojibake column names; Shift-JIS was
read as cp1252."""

import csv
import io
import json
import zipfile

import pytest
from django.test import Client

from lines.submissions.formats import TemplateError, document_to_tables, parse_upload
from tests.documents import valid_document

pytestmark = pytest.mark.django_db


def _csv_set(encoding, *, japanese=False):
    tables = document_to_tables(valid_document(2))
    if japanese:
        tables["lines"][1][tables["lines"][0].index("local_id")] = "東京大学の細胞株一号"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for sheet, rows in tables.items():
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(rows)
            archive.writestr(f"{sheet}.csv", text.getvalue().encode(encoding))
    return out.getvalue()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-32"])
def test_json_with_a_byte_order_mark_is_decoded(encoding):
    document = valid_document(1)
    document["lines"][0]["name"] = "Müller-1"
    parsed, _ = parse_upload(io.BytesIO(json.dumps(document, ensure_ascii=False).encode(encoding)), "json")
    assert parsed["lines"][0]["name"] == "Müller-1"


def test_latin1_json_is_refused_naming_the_encoding_and_asking_for_utf8():
    document = valid_document(1)
    document["lines"][0]["name"] = "Müller-Lüdenscheid Zelllinie für Ärzte"
    with pytest.raises(TemplateError) as refused:
        parse_upload(io.BytesIO(json.dumps(document, ensure_ascii=False).encode("latin-1")), "json")
    message = refused.value.findings[0]["message"]
    assert "not UTF-8" in message and "UTF-8 is required" in message
    assert "surrogates" not in message


def test_a_utf16_csv_set_reads_like_the_utf8_one():
    utf8, _ = parse_upload(io.BytesIO(_csv_set("utf-8")), "csv")
    utf16, _ = parse_upload(io.BytesIO(_csv_set("utf-16")), "csv")
    assert utf16 == utf8


def test_a_shift_jis_csv_is_refused_naming_shift_jis():
    with pytest.raises(TemplateError) as refused:
        parse_upload(io.BytesIO(_csv_set("shift_jis", japanese=True)), "csv")
    messages = [f"{f['location']}: {f['message']}" for f in refused.value.findings]
    assert any("sheet lines" in m and "Shift-JIS" in m and "UTF-8 is required" in m for m in messages), messages
    assert not any("no lines.csv" in m for m in messages)


def test_an_api_body_in_latin1_is_a_400_naming_the_encoding():
    body = json.dumps({"purpose": "Recherche sur la sclérose latérale amyotrophique"}, ensure_ascii=False)
    response = Client().post("/api/v1/eligibility/", data=body.encode("latin-1"), content_type="application/json")
    assert response.status_code == 400
    assert "UTF-8 is required" in response.json()["detail"]
