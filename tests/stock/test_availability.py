"""Availability is derived from stock: the Python and SQL forms of "a vial counts as
in stock" agree on every case, and the line's words follow the counts."""

import itertools

import pytest

from distribution.actions.withdrawal import withdraw_line
from stock.availability import (
    VOCABULARY,
    in_stock_vials_q,
    refresh_line_stock,
    stock_counts,
    summarise,
    vial_counts_in_stock,
)
from stock.models import LotStatus, Vial, VialStatus
from tests.factories import CellLineFactory, LotFactory, VialFactory

pytestmark = pytest.mark.django_db


def test_the_python_and_sql_forms_agree_on_every_vial_and_lot_status():
    line = CellLineFactory()
    expected = {}
    for lot_status, vial_status in itertools.product(LotStatus.values, VialStatus.values):
        lot = LotFactory(line=line, status=lot_status, status_reason="x")
        vial = VialFactory(lot=lot, status=vial_status)
        expected[vial.pk] = vial_counts_in_stock(vial_status, lot_status)
    in_sql = set(Vial.objects.filter(in_stock_vials_q()).values_list("pk", flat=True))
    assert in_sql == {pk for pk, counted in expected.items() if counted}
    assert len(in_sql) == 1  # in stock, of a released lot
    assert stock_counts([line.pk]) == {line.pk: (1, 1, True)}  # the same rule seen from the lots


@pytest.mark.parametrize(
    "distributed, vials, lots, has_lots, code, label",
    [
        (True, 23, 2, True, "available", "Available (23 vials in 2 lots)"),
        (True, 1, 1, True, "available", "Available (1 vial in 1 lot)"),
        (True, 0, 0, False, "on_request", "Available on request (expand to order)"),
        (True, 0, 0, True, "out_of_stock", "Out of stock"),
        (False, 5, 1, True, "not_distributed", "Not distributed"),
    ],
)
def test_the_words_follow_the_counts(distributed, vials, lots, has_lots, code, label):
    block = summarise(distributed=distributed, vials=vials, lots=lots, has_lots=has_lots)
    assert (block["availability"], block["label"]) == (code, label)
    assert block["explanation"] == VOCABULARY[code].sentence


def test_a_withdrawn_line_is_not_distributed_whatever_its_stock(curator):
    line = CellLineFactory()
    VialFactory(lot=LotFactory(line=line, status="released"))
    refresh_line_stock([line.pk])
    withdraw_line(line, by=curator, reason="Karyotype abnormal on re-test")
    line.refresh_from_db()
    assert line.stock_summary["availability"] == "not_distributed"
    assert line.stock_summary["vials_in_stock"] == 1  # the count stays true
    assert line.vials_in_stock == 0  # but the catalog's "in stock" filter leaves it out
