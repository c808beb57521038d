"""CSV set and XLSX workbook: same content as the JSON document, and findings that
name the sheet, row and column the depositor edits."""

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from lines.models import ProtocolVersion
from lines.submissions.formats import (
    TemplateError,
    blank_csv_template,
    blank_xlsx_template,
    document_to_csv_zip,
    document_to_tables,
    document_to_xlsx,
    example_json_document,
    parse_upload,
)
from lines.submissions.validation import validate_document
from tests.documents import valid_document

pytestmark = pytest.mark.django_db


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _rich_document():
    document = valid_document(3, lines_per_donor=2)
    document["lines"][2].update(
        parental_line="L1",
        modification={
            "type": "knock_in",
            "gene": "SOD1",
            "description": "A4V knock-in",
            "variants": [{"gene": "SOD1", "protein": "p.Ala5Val", "zygosity": "heterozygous"}],
        },
    )
    document["lines"][2]["donor"] = "D1"
    document["lines"][2]["qc"][0]["str_profile"] = document["donors"][0]["str_profile"]
    document["lines"][0]["qc"][1]["cnvs"] = [
        {"chromosome": "20", "type": "gain", "size_mb": 1.5, "donor_inherited": True}
    ]
    return document


@pytest.mark.parametrize("fmt, writer", [("xlsx", document_to_xlsx), ("csv", document_to_csv_zip)])
def test_a_document_survives_the_round_trip_through_the_template(fmt, writer):
    document = _rich_document()
    parsed, _locate = parse_upload(io.BytesIO(writer(document)), fmt)
    assert parsed == _without_nulls(document)


@pytest.mark.parametrize("fmt, writer", [("xlsx", document_to_xlsx), ("csv", document_to_csv_zip)])
def test_findings_locate_sheet_row_and_column(fmt, writer, owner_institution):
    document = valid_document(3)
    document["lines"][1]["culture"]["passage_at_banking"] = 0  # LINE-3 on lines row 3
    document["lines"][2]["qc"][4]["markers"][1]["percent_positive"] = 50  # QC-3 on a qc row
    document["donors"][0]["sex"] = "F"  # SCHEMA on donors row 2
    parsed, locate = parse_upload(io.BytesIO(writer(document)), fmt)
    findings = validate_document(parsed, protocol=ProtocolVersion.objects.get(number=1), institution=owner_institution)
    places = {f["rule"]: locate(f["location"]) for f in findings}
    assert places["LINE-3"] == "sheet lines, row 3, column culture.passage_at_banking"
    assert places["SCHEMA"] == "sheet donors, row 2, column sex"
    # The third line's QC rows follow the first two lines' seven each: 2 + 14 + 4 = row 20.
    assert places["QC-3"] == "sheet qc, row 20, column markers"


def test_a_value_of_the_wrong_type_is_a_schema_finding_at_its_cell(owner_institution):
    tables = document_to_tables(valid_document(1))
    header = tables["lines"][0]
    tables["lines"][1][header.index("culture.passage_at_banking")] = "fifteen"
    content = _zip(tables)
    document, locate = parse_upload(io.BytesIO(content), "csv")
    findings = validate_document(
        document, protocol=ProtocolVersion.objects.get(number=1), institution=owner_institution
    )
    [schema] = [f for f in findings if f["rule"] == "SCHEMA"]
    assert locate(schema["location"]) == "sheet lines, row 2, column culture.passage_at_banking"
    assert "fifteen" in schema["message"]


def _zip(tables):

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for sheet, rows in tables.items():
            text = io.StringIO()
            csv.writer(text).writerows(rows)
            archive.writestr(f"{sheet}.csv", text.getvalue())
    return buffer.getvalue()


def test_rows_that_cannot_be_read_raise_a_template_error_naming_every_cell():
    tables = document_to_tables(valid_document(1))
    tables["qc"][2][0] = "L9"  # a QC row for a line that is not there
    tables["lines"][0].append("colour")  # an unknown column
    tables["lines"][1].append("blue")
    markers = tables["qc"][0].index("markers")
    tables["qc"][5][markers] = "OCT4=high; TRA-1-60=90"  # unreadable percent
    with pytest.raises(TemplateError) as caught:
        parse_upload(io.BytesIO(_zip(tables)), "csv")
    locations = {f["location"] for f in caught.value.findings}
    assert locations == {
        "sheet qc, row 3, column line",
        "sheet lines, row 1, column colour",
        "sheet qc, row 6, column markers",
    }
    assert all(f["rule"] == "SCHEMA" and f["message"] for f in caught.value.findings)


@pytest.mark.parametrize(
    "fmt, content",
    [
        ("json", b"{not json"),
        ("csv", b"not a zip"),
        ("xlsx", b"not a workbook"),
        ("csv", b""),
    ],
)
def test_unreadable_files_raise_a_template_error_not_a_crash(fmt, content):
    with pytest.raises(TemplateError) as caught:
        parse_upload(io.BytesIO(content), fmt)
    assert caught.value.findings[0]["message"]


def test_json_uploads_keep_their_pointers():
    document, locate = parse_upload(io.BytesIO(b'{"protocol": "prism-line-submission/1"}'), "json")
    assert document == {"protocol": "prism-line-submission/1"}
    assert locate("/lines/0/name") == "/lines/0/name"


def test_the_blank_workbook_has_the_six_sheets_and_reads_as_an_empty_document():
    content = blank_xlsx_template()
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["README", "donors", "variants", "lines", "qc", "lots", "vials"]
    assert workbook["lines"]["A1"].value == "local_id"
    document, _ = parse_upload(io.BytesIO(content), "xlsx")
    assert document == {"protocol": "prism-line-submission/1", "donors": [], "lines": []}


def test_the_blank_csv_set_has_the_six_files():
    archive = zipfile.ZipFile(io.BytesIO(blank_csv_template()))
    assert set(archive.namelist()) == {
        "README.txt",
        "donors.csv",
        "variants.csv",
        "lines.csv",
        "qc.csv",
        "lots.csv",
        "vials.csv",
    }
    assert archive.read("qc.csv").decode().startswith("line,test,method,result")
    document, _ = parse_upload(io.BytesIO(blank_csv_template()), "csv")
    assert document["lines"] == []


def test_the_example_document_is_valid(owner_institution):
    findings = validate_document(
        example_json_document(),
        protocol=ProtocolVersion.objects.get(number=1),
        institution=owner_institution,
    )
    assert findings == []
