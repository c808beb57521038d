"""Protocol 3 vials travel in the tables too: the CSV set carries a vials.csv member,
the workbook a "vials" sheet (columns line, lot, id, name); the tables become the
same document as JSON, so the vials are in stock once the curator takes the lots in.
A bad vial row is a finding that names the file (sheet) and row."""

import io
import zipfile

import pytest
from openpyxl import load_workbook

from lines.models import CellLine
from lines.submissions.formats import document_to_csv_zip, document_to_xlsx, parse_upload
from stock.deposits import record_declared_lots
from stock.models import Vial
from tests.conftest import client_for
from tests.stock.test_deposited_lots import _approve
from tests.stock.test_deposited_lots_in_tables import _upload
from tests.stock.test_deposited_vials import _with_vials
from tests.submission_helpers import SUBMISSIONS_URL as URL

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _csv_with(document, member, edit):
    archive = zipfile.ZipFile(io.BytesIO(document_to_csv_zip(document)))
    members = {name: archive.read(name) for name in archive.namelist()}
    members[member] = edit(members[member])
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(rebuilt, "w") as out:
        for name, data in members.items():
            out.writestr(name, data)
    return rebuilt.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_vials_listed_in_the_tables_are_in_stock_after_approval(
    fmt, depositor, curator, django_capture_on_commit_callbacks
):
    document = _with_vials(vials=("TAB-V0001", "TAB-V0002"), made=2)
    pk = _upload(depositor, document, fmt, django_capture_on_commit_callbacks)
    body = client_for(depositor).get(f"{URL}{pk}/").json()
    assert body["status"] == "valid", body["findings"]
    assert body["protocol"].endswith("/3")
    _approve(curator, pk, django_capture_on_commit_callbacks)
    (lot,) = record_declared_lots(CellLine.objects.get(submission_id=pk), by=curator)
    assert lot.code == "P001"
    vials = Vial.objects.filter(lot=lot).order_by("identifier")
    assert [(v.identifier, v.status) for v in vials] == [("TAB-V0001", "in_stock"), ("TAB-V0002", "in_stock")]


@pytest.mark.parametrize("writer, fmt", [(document_to_csv_zip, "csv"), (document_to_xlsx, "xlsx")])
def test_the_tables_read_back_to_the_json_document(writer, fmt):
    document = _with_vials(lines=2)
    parsed, locate = parse_upload(io.BytesIO(writer(document)), fmt)
    assert parsed["protocol"] == "prism-line-submission/3"
    assert [line["lots"][0]["vials"] for line in parsed["lines"]] == [
        line["lots"][0]["vials"] for line in document["lines"]
    ]
    assert locate("/lines/1/lots/0/vials/2/id") == "sheet vials, row 7, column id"


def test_a_bad_vial_id_in_vials_csv_is_a_finding_naming_the_file_and_row(depositor, django_capture_on_commit_callbacks):
    document = _with_vials()
    data = _csv_with(document, "vials.csv", lambda raw: raw.replace(b"DEP-V0002", b"DEP V0002!"))
    upload = io.BytesIO(data)
    upload.name = "deposit.zip"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(depositor).post(URL, data={"file": upload}, format="multipart")
    body = client_for(depositor).get(f"{URL}{response.json()['id']}/").json()
    assert body["status"] == "invalid"
    locations = [f["location"] for f in body["findings"]]
    assert "sheet vials, row 3, column id" in locations


def test_a_vial_row_naming_a_lot_the_line_does_not_declare_is_named_by_sheet_and_row():
    document = _with_vials()
    workbook = load_workbook(io.BytesIO(document_to_xlsx(document)))
    workbook["vials"]["B4"] = "P404"
    saved = io.BytesIO()
    workbook.save(saved)
    with pytest.raises(ValueError, match="sheet vials, row 4, column lot: lot 'P404' is not a lot of line"):
        parse_upload(io.BytesIO(saved.getvalue()), "xlsx")
