"""POST /api/v1/str/batch/ with a bare CR or binary content answered 500: now a 400
naming the row, and a file with classic Mac line endings (CR alone) is read."""

import io

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

HEADER = "Sample Name,TH01,D5S818,D13S317,D7S820,D16S539,CSF1PO,TPOX,vWA"
ROW = "S1,6,11,12,10,9,12,8,17"


def _post(user, content, name="batch.csv"):
    upload = io.BytesIO(content)
    upload.name = name
    return client_for(user).post("/api/v1/str/batch/", {"file": upload}, format="multipart")


def test_a_carriage_return_inside_a_row_is_a_400_naming_the_row(researcher):
    content = f"{HEADER}\n{ROW}\nS2,6,11\r,12,10,9,12,8,17\n".encode()
    response = _post(researcher, content)
    assert response.status_code == 400, response.content
    assert response.json()["file"] == [
        "row 3: a carriage return (CR) in the middle of the row; save the file with ordinary line endings"
    ]


def test_binary_content_is_a_400_naming_the_row(researcher):
    content = f"{HEADER}\n{ROW}\n".encode() + b"S2,\x00\x01\x02\xff\xfe\x00,11\n"
    response = _post(researcher, content)
    assert response.status_code == 400, response.content
    assert response.json()["file"][0].startswith("row 3: binary content")


def test_a_workbook_lookalike_that_is_not_one_is_a_400(researcher):
    response = _post(researcher, b"PK\x03\x04" + bytes(range(256)) * 4, name="batch.xlsx")
    assert response.status_code == 400
    assert "not a readable XLSX workbook" in response.json()["file"][0]


def test_classic_mac_line_endings_are_read(researcher):
    response = _post(researcher, f"{HEADER}\r{ROW}\r".encode())
    assert response.status_code == 200, response.content
    assert [sample["sample"] for sample in response.json()["results"]] == ["S1"]


def test_a_utf16_batch_with_its_byte_order_mark_is_read(researcher):
    response = _post(researcher, f"{HEADER}\n{ROW}\n".encode("utf-16"))
    assert response.status_code == 200, response.content
    assert [sample["sample"] for sample in response.json()["results"]] == ["S1"]
