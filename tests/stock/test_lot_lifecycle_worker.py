"""A lot from declaration to recall, end to end on PostgreSQL and Redis with a real
worker sending the e-mails: declared, its own QC linked, released, a box of vials
received by upload, two requests approved (vials reserved), one shipped, then the
lot recalled: vials quarantined, the open request on hold, the recipient told."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from distribution.actions import requests as actions
from distribution.actions.requests import create_request
from distribution.models import DistributionRequest
from stock import actions as stock_actions
from stock.models import Lot, Vial
from tests.celery_worker import wait_for
from tests.conftest import client_for
from tests.distribution.workflow import GRU, HMB, IRB, TODAY, advance, line_with
from tests.stock.helpers import a_box, passing_panel

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_lot_from_declaration_to_recall(celery_worker_process, curator, requester, other_researcher):
    line = line_with([GRU, IRB])
    lot = stock_actions.declare_lot(line, "MCB01", by=curator, passage=16, accession="SAMEG900001")
    stock_actions.link_qc_records(lot, passing_panel(line), by=curator)
    stock_actions.release_lot(lot, by=curator)
    a_box(code="ln2-a-1")
    rows = "".join(f"SAMEA9000{n:02d},SAMEG900001,ln2-a-1,A{n}\n" for n in range(1, 7))
    upload = SimpleUploadedFile("box.csv", ("vial,batch,box,position\n" + rows).encode())
    received = client_for(curator).post("/api/v1/vials/receive/", {"file": upload}, format="multipart")
    assert received.status_code == 201 and received.json()["vials"] == 6
    assert client_for(requester).get(f"/api/v1/lines/{line.name}/").json()["stock"]["vials_in_stock"] == 6

    shipped = create_request(other_researcher, [line], purpose_codes=[HMB], vials={line.name: 2})
    advance(shipped, other_researcher, curator, "agreement_executed")
    vial_ids = list(shipped.items.get().reserved_vials.values_list("vial__identifier", flat=True))
    actions.ship(
        shipped,
        curator,
        [{"line": line, "shipped_on": TODAY, "vials": 2, "courier": "DHL", "vial_ids": vial_ids}],
    )
    waiting = create_request(requester, [line], purpose_codes=[HMB], vials={line.name: 1})
    advance(waiting, requester, curator, "approved")

    response = client_for(curator).post(
        f"/api/v1/lots/{lot.pk}/recall/", {"reason": "Mycoplasma PCR positive on re-test"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"quarantined_vials": 4, "held_requests": [waiting.pk], "recipients": ["rob"]}
    assert Lot.objects.get(pk=lot.pk).status == "recalled"
    assert sorted(Vial.objects.values_list("status", flat=True)) == ["quarantined"] * 4 + ["shipped"] * 2
    assert DistributionRequest.objects.get(pk=waiting.pk).on_hold
    # The worker sends the mail (console backend: into its log).
    wait_for(
        lambda: (
            "a lot you received is recalled" in celery_worker_process.log()
            and "rob@example.org" in celery_worker_process.log()
        ),
        message=f"the worker to tell the recipient\n{celery_worker_process.log()}",
    )
    assert all(v in celery_worker_process.log() for v in vial_ids)
