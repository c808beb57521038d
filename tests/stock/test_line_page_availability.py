"""The line page shows one availability badge, derived from stock: not a policy badge
beside a stock badge that may disagree with it."""

import pytest
from django.test import Client

from stock import actions
from tests.factories import CellLineFactory
from tests.stock.helpers import a_curator, released_lot

pytestmark = pytest.mark.django_db


def _badges(line):
    html = Client().get(f"/lines/{line.name}/").content.decode()
    return html.count('class="avail '), html


def test_a_line_in_stock_shows_one_badge_with_its_counts():
    line = CellLineFactory(availability="available")
    released_lot(line, vials=3)
    count, html = _badges(line)
    assert count == 1
    assert html.count("Available (3 vials in 1 lot)") == 1 and ">Available<" not in html


def test_a_line_whose_only_lot_is_recalled_reads_out_of_stock_once():
    line = CellLineFactory(availability="available")
    lot = released_lot(line, vials=2)
    actions.withhold_lot(lot, "recalled", by=a_curator(), reason="Mycoplasma re-test failed")
    count, html = _badges(line)
    assert count == 1
    assert html.count(">Out of stock<") == 1
    assert ">Available<" not in html and "Available (" not in html
