"""Stock set-ups the stock tests share: a lot whose own QC panel passes, released by a
curator through the actions, with vials in a box."""

import datetime

from core.accounts import create_user_with_role
from stock import actions
from stock.availability import refresh_line_stock
from tests.factories import CORE_PANEL, CellLineFactory, LocationFactory, LotFactory, QCRecordFactory, VialFactory


def a_curator():
    user, _ = create_user_with_role(f"stockcurator{next(_n)}", "curator")
    return user


_n = iter(range(1, 10**9))


def passing_panel(line, tested_on=datetime.date(2025, 3, 10)):
    tests = [*CORE_PANEL, "vector_clearance"]
    return [QCRecordFactory(line=line, test=test, result="pass", tested_on=tested_on) for test in tests]


def released_lot(line=None, *, vials=0, box=None, by=None, **lot_fields):
    """A lot of `line` with its own passing panel, released; `vials` of them in stock
    (in `box`, row by row, when given)."""
    line = line or CellLineFactory()
    by = by or a_curator()
    lot = LotFactory(line=line, **lot_fields)
    actions.link_qc_records(lot, passing_panel(line), by=by)
    actions.release_lot(lot, by=by)
    for i in range(vials):
        position = {}
        if box is not None:
            position = {"location": box, "row": i // box.columns + 1, "column": i % box.columns + 1}
        VialFactory(lot=lot, **position)

    refresh_line_stock([line.pk])
    lot.refresh_from_db()
    return lot


def a_box(**kwargs):
    return LocationFactory(**kwargs)
