"""Protocol 2 lots travel in every submission format: the CSV set carries a lots.csv
member, the workbook a "lots" sheet, and a QC row names its lot in column `lot`. The
same deposit as JSON, CSV zip and XLSX approves to the same lots with the same QC."""

import io
import json
import zipfile

import pytest

from lines.models import CellLine
from lines.submissions.formats import (
    blank_csv_template,
    blank_xlsx_template,
    document_to_csv_zip,
    document_to_xlsx,
    parse_upload,
)
from lines.submissions.formats.xlsx import read_xlsx
from stock.deposits import record_declared_lots
from tests.conftest import client_for
from tests.stock.test_deposited_lots import _approve, _v2
from tests.submission_helpers import SUBMISSIONS_URL as URL
from tests.submission_helpers import submission_document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _upload(user, document, fmt, callbacks):
    if fmt == "json":
        upload, name = io.BytesIO(json.dumps(document).encode()), "deposit.json"
    elif fmt == "csv":
        upload, name = io.BytesIO(document_to_csv_zip(document)), "deposit.zip"
    else:
        upload, name = io.BytesIO(document_to_xlsx(document)), "deposit.xlsx"
    upload.name = name
    with callbacks(execute=True):
        response = client_for(user).post(URL, data={"file": upload}, format="multipart")
    assert response.status_code == 202, response.content
    return response.json()["id"]


def _recorded_lots(curator, pk, callbacks):
    _approve(curator, pk, callbacks)
    line = CellLine.objects.get(submission_id=pk)
    lots = record_declared_lots(line, by=curator)
    return [
        (
            lot.code,
            lot.lot_type,
            lot.accession[:-1] if lot.accession else None,
            lot.passage,
            str(lot.frozen_on),
            lot.cryo_medium,
            sorted(lot.qc_records.values_list("test", flat=True)),
        )
        for lot in lots
    ]


def test_json_csv_and_xlsx_of_one_deposit_approve_to_the_same_lots(
    depositor, curator, django_capture_on_commit_callbacks
):
    recorded = {}
    for n, fmt in enumerate(("json", "csv", "xlsx")):
        document = _v2(submission_document(1, seed=n))
        document["lines"][0]["lots"][0]["accession"] = f"SAMEG31757{n}"  # accessions are unique in the bank
        pk = _upload(depositor, document, fmt, django_capture_on_commit_callbacks)
        assert client_for(depositor).get(f"{URL}{pk}/").json()["status"] == "valid", fmt
        recorded[fmt] = _recorded_lots(curator, pk, django_capture_on_commit_callbacks)
    assert recorded["json"][0][:6] == ("P001", "depositor", "SAMEG31757", 18, "2025-07-01", "")
    assert recorded["json"][1][5] == "CryoStor CS10" and recorded["json"][1][6] == []
    assert len(recorded["json"][0][6]) > 0
    assert recorded["csv"] == recorded["json"] == recorded["xlsx"]


@pytest.mark.parametrize("fmt, writer", [("xlsx", document_to_xlsx), ("csv", document_to_csv_zip)])
def test_a_version_2_document_round_trips_through_the_tables(fmt, writer):
    document = _v2(submission_document(1))
    parsed, _locate = parse_upload(io.BytesIO(writer(document)), fmt)
    assert parsed["protocol"] == "prism-line-submission/2"
    assert [lot["code"] for lot in parsed["lines"][0]["lots"]] == ["P001", "P002"]
    assert {record["lot"] for record in parsed["lines"][0]["qc"]} == {"P001"}


def test_a_lot_row_naming_an_unknown_line_is_named_by_sheet_row_and_column():
    document = _v2(submission_document(1))
    archive = zipfile.ZipFile(io.BytesIO(document_to_csv_zip(document)))
    members = {name: archive.read(name) for name in archive.namelist()}
    members["lots.csv"] = members["lots.csv"].replace(document["lines"][0]["local_id"].encode(), b"L404", 1)
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(rebuilt, "w") as out:
        for name, data in members.items():
            out.writestr(name, data)
    with pytest.raises(ValueError, match="sheet lots, row 2, column line: line 'L404' is not a local_id"):
        parse_upload(io.BytesIO(rebuilt.getvalue()), "csv")


def test_the_downloadable_templates_offer_the_lots_sheet_and_the_qc_lot_column():
    names = zipfile.ZipFile(io.BytesIO(blank_csv_template())).namelist()
    assert "lots.csv" in names
    tables = read_xlsx(blank_xlsx_template())
    assert tables["lots"][0][:3] == ["line", "code", "type"]
    assert "lot" in tables["qc"][0]
