"""Recall of a lot (a failed mycoplasma re-test): its vials are quarantined, open
requests that reserved them go on hold with the reason, every past recipient is
told; the reason is mandatory and only curators recall."""

import pytest

from distribution.actions import requests as actions
from distribution.actions.recall import recall_lot
from distribution.actions.requests import create_request
from distribution.models import InvalidAction, NotAllowed
from stock import actions as stock_actions
from stock.models import Lot, StockEvent, Vial
from tests.distribution.workflow import GRU, HMB, IRB, TODAY, advance, line_with
from tests.stock.helpers import released_lot

pytestmark = pytest.mark.django_db

REASON = "Mycoplasma re-test positive (PCR, 2026-11-30)"


@pytest.fixture
def world(requester, curator, other_researcher):
    line = line_with([GRU, IRB])
    lot = released_lot(line, code="P001", vials=6)
    shipped = create_request(other_researcher, [line], purpose_codes=[HMB], vials={line.name: 2})
    advance(shipped, other_researcher, curator, "shipped")
    open_request = create_request(requester, [line], purpose_codes=[HMB], vials={line.name: 2})
    advance(open_request, requester, curator, "approved")
    return {"line": line, "lot": lot, "shipped": shipped, "open": open_request}


def test_recall_quarantines_holds_open_requests_and_tells_past_recipients(
    world, curator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = recall_lot(world["lot"], by=curator, reason=REASON)
    # 6 vials: 1 shipped (its second reserved vial went back at shipping), 2 reserved, 3 in stock.
    assert report.quarantined_vials == 5
    assert report.held_requests == [world["open"].pk] and report.recipients == ["rob"]
    lot = Lot.objects.get(pk=world["lot"].pk)
    assert (lot.status, lot.status_reason) == ("recalled", REASON)
    assert sorted(Vial.objects.filter(lot=lot).values_list("status", flat=True)) == ["quarantined"] * 5 + ["shipped"]
    world["open"].refresh_from_db()
    assert world["open"].on_hold and REASON in world["open"].hold_reason
    world["line"].refresh_from_db()
    assert world["line"].stock_summary["availability"] == "out_of_stock"
    recall_mail = [m for m in mailoutbox if "recalled" in m.subject]
    assert [m.to for m in recall_mail] == [["rob@example.org"]]
    assert REASON in recall_mail[0].body
    assert StockEvent.objects.filter(action="lot_recalled", lot=lot, actor=curator, reason=REASON).exists()


def test_a_held_request_cannot_ship_until_the_hold_is_released(world, curator):
    recall_lot(world["lot"], by=curator, reason=REASON, notify=False)
    with pytest.raises(Exception, match="on hold"):
        actions.record_agreement(world["open"], curator, "MTA-9", TODAY)


def test_a_recall_needs_a_reason_and_a_curator(world, curator, requester):
    with pytest.raises(InvalidAction, match="reason"):
        recall_lot(world["lot"], by=curator, reason="  ")
    with pytest.raises(NotAllowed):
        recall_lot(world["lot"], by=requester, reason=REASON)
    assert Lot.objects.get(pk=world["lot"].pk).status == "released"


def test_a_quarantined_lot_is_released_again_only_with_a_passing_panel(curator):
    lot = released_lot(vials=2)
    recall_lot(lot, by=curator, reason="Awaiting sterility re-test", status="quarantined")
    assert set(lot.vials.values_list("status", flat=True)) == {"quarantined"}
    stock_actions.release_lot(lot, by=curator, reason="Sterility re-test negative")
    assert set(lot.vials.values_list("status", flat=True)) == {"in_stock"}
    lot.line.refresh_from_db()
    assert lot.line.vials_in_stock == 2


def test_a_lot_whose_own_panel_fails_is_not_released(curator):
    lot = released_lot()
    record = lot.qc_records.get(test="mycoplasma")
    record.result = "fail"
    record.save()
    stock_actions.withhold_lot(lot, "quarantined", by=curator, reason="re-test")
    with pytest.raises(stock_actions.StockError, match="its QC panel is failed"):
        stock_actions.release_lot(lot, by=curator)
