"""Approving a request reserves specific vials (oldest released lot first), shipping
records which vials left, the recipient confirms receipt per vial, and closing a
request puts its vials back. Two approvals at once never reserve one vial."""

import datetime
import threading

import pytest
from django.db import connection, connections, transaction

from core.accounts import create_user_with_role
from distribution.actions import requests as actions
from distribution.actions import stock as stock_links
from distribution.actions.requests import create_request
from distribution.models import InvalidAction, ReservedVial
from lines.models import CellLine
from stock.actions import claim_vials
from stock.models import Vial, VialEvent
from tests.conftest import client_for
from tests.distribution.workflow import GRU, HMB, IRB, TODAY, advance, line_with
from tests.stock.helpers import a_box, released_lot

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked_line(db):
    """A line (GRU, IRB consent) with an older lot of 2 vials and a newer one of 3."""
    line = line_with([GRU, IRB])
    released_lot(line, code="P002", frozen_on=datetime.date(2025, 6, 1), vials=3, box=a_box(code="box-new"))
    released_lot(line, code="P001", frozen_on=datetime.date(2024, 1, 1), vials=2, box=a_box(code="box-old"))
    return line


def _approved(requester, curator, line, vials=3):
    request = create_request(requester, [line], purpose_codes=[HMB], vials={line.name: vials})
    advance(request, requester, curator, "approved")
    return request


def _reserved(request):
    return list(
        ReservedVial.objects.filter(item__request=request, released_at=None)
        .order_by("vial__lot__frozen_on", "vial_id")
        .values_list("vial__lot__code", "vial__status")
    )


def test_approval_reserves_vials_oldest_released_lot_first(requester, curator, stocked_line):
    request = _approved(requester, curator, stocked_line, vials=3)
    assert _reserved(request) == [("P001", "reserved"), ("P001", "reserved"), ("P002", "reserved")]
    stocked_line.refresh_from_db()
    assert stocked_line.stock_summary["label"] == "Available (2 vials in 1 lot)"
    event = request.events.get(action="approved")
    assert len(event.details["reserved"][stocked_line.name]) == 3


def test_the_lot_the_requester_asked_for_is_reserved_instead_of_the_oldest(requester, curator, stocked_line):
    request = create_request(requester, [stocked_line], purpose_codes=[HMB], vials={stocked_line.name: 2})
    advance(request, requester, curator, "approved")  # reserves the oldest: P001
    actions.cancel(request, requester)
    newer = stocked_line.lots.get(code="P002")
    again = create_request(requester, [stocked_line], purpose_codes=[HMB], vials={stocked_line.name: 2})
    advance(again, requester, curator, "under_review")
    again.items.update(decision="approved")
    stock_links.reserve_for_request(again, curator, lots={stocked_line.name: newer})
    assert _reserved(again) == [("P002", "reserved"), ("P002", "reserved")]


def test_approval_with_too_few_vials_is_refused_and_reserves_nothing(requester, curator, stocked_line):
    request = create_request(requester, [stocked_line], purpose_codes=[HMB], vials={stocked_line.name: 6})
    advance(request, requester, curator, "under_review")
    with pytest.raises(InvalidAction, match=f"Only 5 vial\\(s\\) of {stocked_line.name} are in stock; 6 are needed"):
        actions.approve(request, curator)
    request.refresh_from_db()
    assert request.status == "under_review"
    assert not Vial.objects.filter(status="reserved").exists()


def test_a_line_the_bank_holds_no_lot_of_is_approved_to_be_expanded_to_order(requester, curator):
    line = line_with([GRU, IRB])
    request = _approved(requester, curator, line, vials=2)
    assert request.status == "approved" and _reserved(request) == []


def test_shipping_records_the_vials_that_left_and_the_recipient_confirms_each(requester, curator, stocked_line):
    request = _approved(requester, curator, stocked_line, vials=3)
    actions.record_agreement(request, curator, "MTA-1", TODAY)
    reserved = [r.vial.identifier for r in ReservedVial.objects.filter(item__request=request).order_by("id")]
    actions.ship(
        request,
        curator,
        [
            {
                "line": stocked_line,
                "shipped_on": TODAY,
                "vials": 3,
                "courier": "World Courier",
                "courier_reference": "WC-123",
                "vial_ids": reserved,
            }
        ],
    )
    shipment = request.shipments.get()
    assert (shipment.courier, shipment.courier_reference) == ("World Courier", "WC-123")
    body = client_for(requester).get(f"/api/v1/requests/{request.pk}/").json()["shipments"][0]
    assert sorted(body["vials_shipped"]) == sorted(reserved)
    lots = sorted({v.lot_id for v in Vial.objects.filter(identifier__in=reserved)})
    assert body["certificates"] == [f"/api/v1/lots/{pk}/coa/" for pk in lots]
    shipped = Vial.objects.filter(identifier__in=reserved)
    assert {(v.status, v.location_id) for v in shipped} == {("shipped", None)}
    assert stock_links.confirm_receipt(request, requester, reserved[:1]) == reserved[:1]
    assert ReservedVial.objects.filter(received_on=TODAY).count() == 1
    actions.complete(request, requester)
    assert ReservedVial.objects.filter(received_on=TODAY).count() == 3


def test_shipping_vials_not_reserved_for_the_request_is_refused(requester, curator, stocked_line):
    request = _approved(requester, curator, stocked_line, vials=1)
    actions.record_agreement(request, curator, "MTA-1", TODAY)
    other = Vial.objects.filter(status="in_stock").first()
    with pytest.raises(InvalidAction) as refused:
        actions.ship(
            request,
            curator,
            [{"line": stocked_line, "shipped_on": TODAY, "vials": 1, "vial_ids": [other.identifier]}],
        )
    assert refused.value.problems == {"shipments[0].vial_ids": f"not reserved for this request: {other.identifier}"}
    assert not request.shipments.exists()


def test_cancelling_puts_the_reserved_vials_back_with_their_history(requester, curator, stocked_line):
    request = _approved(requester, curator, stocked_line, vials=2)
    actions.cancel(request, requester)
    assert _reserved(request) == []
    stocked_line.refresh_from_db()
    assert stocked_line.vials_in_stock == 5
    vial = ReservedVial.objects.filter(item__request=request).first().vial
    assert list(VialEvent.objects.filter(vial=vial).values_list("from_status", "to_status")) == [
        ("in_stock", "reserved"),
        ("reserved", "in_stock"),
    ]


def _two_curators_approve_at_once(requester, vials_made, vials_each):
    """Two requests for one line of `vials_made` vials, `vials_each` each, approved by two
    curators in two threads released together: (the line, each approval's outcome)."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (set DATABASE_URL); SQLite serialises them")
    curators = [create_user_with_role(f"cur{i}", "curator")[0] for i in (1, 2)]
    line = line_with([GRU, IRB])
    released_lot(line, vials=vials_made)
    requests = []
    for curator in curators:
        request = create_request(requester, [line], purpose_codes=[HMB], vials={line.name: vials_each})
        advance(request, requester, curator, "under_review")
        requests.append(request)
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(request, curator):
        try:
            barrier.wait()
            actions.approve(request, curator)
            outcomes.append("approved")
        except InvalidAction as error:
            outcomes.append(error.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=pair) for pair in zip(requests, curators, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return line, outcomes


@pytest.mark.django_db(transaction=True)
def test_two_curators_approving_two_requests_at_once_never_reserve_the_same_vial(requester):
    """Both approvals read the same vials as free; the conditional update lets only one
    take each, so the other takes the next ones (and the last vial goes to one only)."""
    line, outcomes = _two_curators_approve_at_once(requester, vials_made=5, vials_each=3)
    reserved = list(ReservedVial.objects.filter(released_at=None).values_list("vial_id", flat=True))
    assert len(reserved) == len(set(reserved)) == 3
    assert sorted(o[:8] for o in outcomes) == ["Not enou", "approved"]
    assert Vial.objects.filter(status="reserved").count() == 3
    assert CellLine.objects.get(pk=line.pk).vials_in_stock == 2


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_that_both_fit_leave_the_line_out_of_stock(requester):
    """Both requests fit (2 + 2 of 4 vials): both are approved, and the line's stock
    block counts what they left, none; each approval reads the line after the other."""
    line, outcomes = _two_curators_approve_at_once(requester, vials_made=4, vials_each=2)
    assert outcomes == ["approved", "approved"]
    assert Vial.objects.filter(status="reserved").count() == 4
    line = CellLine.objects.get(pk=line.pk)
    assert line.vials_in_stock == 0
    assert line.stock_summary["availability"] == "out_of_stock"
    assert line.stock_summary["vials_in_stock"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_vial_another_transaction_holds_is_passed_over_for_the_next_in_order(curator):
    """While a curator's transaction holds the oldest vial (moving it, say), a claim does
    not wait for it nor refuse: it takes the next vials in order, and the count is right."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (set DATABASE_URL); SQLite serialises them")
    line = line_with([GRU, IRB])
    lot = released_lot(line, code="P001", frozen_on=datetime.date(2024, 1, 1), vials=4)
    first, *rest = list(lot.vials.order_by("id"))
    held, done = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Vial.objects.select_for_update().get(pk=first.pk)
                held.set()
                done.wait(timeout=30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(timeout=30)
        with transaction.atomic():
            line = CellLine.objects.select_for_update().get(pk=line.pk)
            claimed = claim_vials(line, 2, by=curator)
    finally:
        done.set()
        thread.join()
    assert [pk for pk, _identifier in claimed] == [rest[0].pk, rest[1].pk]
    assert Vial.objects.get(pk=first.pk).status == "in_stock"
    line.refresh_from_db()
    assert (line.vials_in_stock, line.stock_summary["label"]) == (2, "Available (2 vials in 1 lot)")
    assert VialEvent.objects.filter(vial__lot=lot, to_status="reserved").count() == 2


@pytest.mark.django_db(transaction=True)
def test_approvals_on_a_new_database_connection_reserve_as_before(requester, curator, stocked_line):
    """The claim is a prepared statement of the connection (on PostgreSQL): one made
    anew (a restarted server, an expired connection) prepares it again."""
    first = _approved(requester, curator, stocked_line, vials=1)
    connection.close()
    second = _approved(requester, curator, stocked_line, vials=1)
    assert _reserved(first) == [("P001", "reserved")]
    assert _reserved(second) == [("P001", "reserved")]
    stocked_line.refresh_from_db()
    assert stocked_line.stock_summary["label"] == "Available (3 vials in 1 lot)"
