"""Protocol version 2: a depositor declares lots (and which QC records were made on
each); version 1 documents are still accepted; the curator records the declared
lots in stock, each with its own QC panel, and releases one whose panel passes."""

import copy
import json

import pytest

from lines.models import CellLine
from stock import actions
from stock.deposits import lines_with_declared_lots, record_declared_lots
from tests.conftest import client_for
from tests.submission_helpers import SUBMISSIONS_URL as URL
from tests.submission_helpers import submission_document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


LOTS = [
    {"code": "P001", "type": "depositor", "accession": "SAMEG317574", "passage": 18, "frozen_on": "2025-07-01"},
    {"code": "P002", "type": "depositor", "passage": 24, "cryo_medium": "CryoStor CS10"},
]


def _v2(document):
    document = copy.deepcopy(document)
    document["protocol"] = "prism-line-submission/2"
    line = document["lines"][0]
    line["lots"] = copy.deepcopy(LOTS)
    for record in line["qc"]:
        record["lot"] = "P001"  # the whole panel was made on P001
    return document


def _deposit(user, document, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(user).post(URL, data=json.dumps(document), content_type="application/json")
    assert response.status_code == 202, response.content
    return response.json()["id"]


def _approve(curator, pk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(curator).post(f"{URL}{pk}/approve/").status_code == 202


def test_a_version_2_deposit_declares_lots_the_curator_records_and_releases(
    depositor, curator, django_capture_on_commit_callbacks
):
    pk = _deposit(depositor, _v2(submission_document(1)), django_capture_on_commit_callbacks)
    assert client_for(depositor).get(f"{URL}{pk}/").json()["status"] == "valid"
    _approve(curator, pk, django_capture_on_commit_callbacks)
    line = CellLine.objects.get(submission_id=pk)
    assert list(lines_with_declared_lots()) == [line]

    p001, p002 = record_declared_lots(line, by=curator)
    assert (p001.code, p001.lot_type, p001.accession, p001.passage, str(p001.frozen_on)) == (
        "P001",
        "depositor",
        "SAMEG317574",
        18,
        "2025-07-01",
    )
    assert p001.qc_records.count() == line.qc_records.exclude(details__lot=None).count() > 0
    assert p002.qc_records.count() == 0 and p002.qc_status == "incomplete"
    actions.release_lot(p001, by=curator)
    with pytest.raises(actions.StockError, match="its QC panel is incomplete"):
        actions.release_lot(p002, by=curator)
    assert record_declared_lots(line, by=curator) == []  # recorded once


def test_the_stock_page_lists_declared_lots_and_records_them(
    depositor, curator, client, django_capture_on_commit_callbacks
):
    pk = _deposit(depositor, _v2(submission_document(1)), django_capture_on_commit_callbacks)
    _approve(curator, pk, django_capture_on_commit_callbacks)
    line = CellLine.objects.get(submission_id=pk)
    client.force_login(curator)
    assert f"{line.name}: P001, P002" in client.get("/stock/").content.decode()
    page = client.post(f"/stock/declared/{line.name}/", follow=True).content.decode()
    assert f"Recorded 2 lot(s) of {line.name}" in page
    assert set(line.lots.values_list("code", flat=True)) == {"P001", "P002"}


def test_a_qc_record_naming_an_undeclared_lot_or_a_repeated_code_is_refused(
    depositor, django_capture_on_commit_callbacks
):
    document = _v2(submission_document(1))
    document["lines"][0]["lots"].append({"code": "P001"})
    document["lines"][0]["qc"][0]["lot"] = "P009"
    pk = _deposit(depositor, document, django_capture_on_commit_callbacks)
    body = client_for(depositor).get(f"{URL}{pk}/").json()
    lot_findings = sorted(f["location"] for f in body["findings"] if f["rule"] == "LOT-1")
    assert body["status"] == "invalid"
    assert lot_findings == ["/lines/0/lots/2/code", "/lines/0/qc/0/lot"]


def test_version_1_documents_are_still_accepted_and_may_not_declare_lots(depositor, django_capture_on_commit_callbacks):
    pk = _deposit(depositor, submission_document(1), django_capture_on_commit_callbacks)
    assert client_for(depositor).get(f"{URL}{pk}/").json()["status"] == "valid"
    old = _v2(submission_document(1))
    old["protocol"] = "prism-line-submission/1"
    pk = _deposit(depositor, old, django_capture_on_commit_callbacks)
    body = client_for(depositor).get(f"{URL}{pk}/").json()
    assert body["status"] == "invalid" and {f["rule"] for f in body["findings"]} == {"SCHEMA"}
