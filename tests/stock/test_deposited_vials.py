"""Protocol version 3: a lot may list the vials the depositor sends (rule LOT-2: each
vial once in the document, no more than the lot made); the curator's taking in the
lots records them in stock, refusing the whole line when the bank already holds a
vial id. Version 2 has no vials (its schema refuses them)."""

import copy
import json

import pytest

from lines.models import CellLine
from stock.actions import StockError
from stock.deposits import record_declared_lots
from stock.models import Lot, Vial
from tests.conftest import client_for
from tests.factories import LotFactory, VialFactory
from tests.submission_helpers import SUBMISSIONS_URL as URL
from tests.submission_helpers import submission_document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _with_vials(lines=1, protocol=3, vials=("DEP-V0001", "DEP-V0002", "DEP-V0003"), made=3):
    document = copy.deepcopy(submission_document(lines))
    document["protocol"] = f"prism-line-submission/{protocol}"
    for n, line in enumerate(document["lines"]):
        line["lots"] = [{"code": "P001", "type": "depositor", "vials_made": made, "vials": [{"id": v} for v in vials]}]
        if n:  # other lines list vials of their own
            line["lots"][0]["vials"] = [{"id": f"{v}-{n}"} for v in vials]
        for record in line["qc"]:
            record["lot"] = "P001"
    return document


def _deposit(user, document, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(user).post(URL, data=json.dumps(document), content_type="application/json")
    assert response.status_code == 202, response.content
    body = client_for(user).get(f"{URL}{response.json()['id']}/").json()
    return response.json()["id"], body


def _findings(body, rule):
    return sorted((f["location"], f["message"]) for f in body["findings"] if f["rule"] == rule)


def test_declared_vials_are_recorded_in_stock_with_the_lot(depositor, curator, django_capture_on_commit_callbacks):
    pk, body = _deposit(depositor, _with_vials(), django_capture_on_commit_callbacks)
    assert body["status"] == "valid", body["findings"]
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(curator).post(f"{URL}{pk}/approve/").status_code == 202
    line = CellLine.objects.get(submission_id=pk)
    (lot,) = record_declared_lots(line, by=curator)
    vials = list(Vial.objects.filter(lot=lot).order_by("identifier"))
    assert [v.identifier for v in vials] == ["DEP-V0001", "DEP-V0002", "DEP-V0003"]
    assert {(v.status, v.location_id, v.position) for v in vials} == {("in_stock", None, "")}
    assert vials[0].received.action == "vials_declared" and vials[0].received.actor == curator


def test_a_vial_listed_twice_or_beyond_vials_made_is_a_located_finding(depositor, django_capture_on_commit_callbacks):
    document = _with_vials(vials=("DEP-V0001", "DEP-V0001", "DEP-V0002"), made=2)
    _pk, body = _deposit(depositor, document, django_capture_on_commit_callbacks)
    assert body["status"] == "invalid"
    found = _findings(body, "LOT-2")
    assert ("/lines/0/lots/0/vials", "lot lists 3 vials but made 2 (vials_made)") in found
    assert any(
        location == "/lines/0/lots/0/vials/1/id" and "/lines/0/lots/0/vials/0/id" in message
        for location, message in found
    )


def test_a_vial_on_two_lines_of_one_document_is_found(depositor, django_capture_on_commit_callbacks):
    document = _with_vials(lines=2)
    document["lines"][1]["lots"][0]["vials"][0]["id"] = "DEP-V0001"
    _pk, body = _deposit(depositor, document, django_capture_on_commit_callbacks)
    assert [location for location, _ in _findings(body, "LOT-2")] == ["/lines/1/lots/0/vials/0/id"]


def test_a_vial_id_the_bank_holds_refuses_the_whole_line(depositor, curator, django_capture_on_commit_callbacks):
    pk, _body = _deposit(depositor, _with_vials(), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(curator).post(f"{URL}{pk}/approve/")
    line = CellLine.objects.get(submission_id=pk)
    VialFactory(identifier="DEP-V0002", lot=LotFactory())
    with pytest.raises(StockError, match="DEP-V0002"):
        record_declared_lots(line, by=curator)
    assert not Lot.objects.filter(line=line).exists()
    assert not Vial.objects.filter(identifier="DEP-V0001").exists()


def test_version_2_documents_cannot_list_vials(depositor, django_capture_on_commit_callbacks):
    _pk, body = _deposit(depositor, _with_vials(protocol=2), django_capture_on_commit_callbacks)
    assert body["status"] == "invalid"
    assert any(f["rule"] == "SCHEMA" and "/lines/0/lots/0" in f["location"] for f in body["findings"])
