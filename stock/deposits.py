"""Lots a depositor declared in a submission (protocol version 2), recorded in stock.

The submission writer (lines/) keeps each line's declared lots on the line
(CellLine.declared_lots) and each QC record's lot code in its details; lines may not
import stock, so a curator takes them in here (the stock page lists the lines
waiting): each declared lot becomes a Lot awaiting release, with the QC records the
document made on it, and its panel verdict. Releasing stays the curator's step."""

import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet

from lines.models import CellLine
from stock import actions
from stock.models import Lot

FIELDS = {
    "type": "lot_type",
    "accession": "accession",
    "passage": "passage",
    "medium": "medium",
    "matrix": "matrix",
    "cryo_medium": "cryo_medium",
    "vials_made": "vials_made",
    "freezing_method": "freezing_method",
    "thaw_recommendation": "thaw_recommendation",
}


def lines_with_declared_lots() -> QuerySet[CellLine]:
    """Lines whose deposit declared lots (some may be recorded already)."""
    return CellLine.objects.exclude(declared_lots=[]).order_by("name")


def waiting(line: CellLine) -> list[dict]:
    """The declared lots of `line` not yet recorded as lots."""
    have = set(Lot.objects.filter(line=line).values_list("code", flat=True))
    return [d for d in line.declared_lots or [] if isinstance(d, dict) and d.get("code") not in have]


def record_declared_lots(line: CellLine, *, by: User) -> list[Lot]:
    """Record the lots `line`'s deposit declared, with their QC records; the new lots."""
    actions.check_curator(by)
    made = []
    with transaction.atomic():
        for declared in waiting(line):
            fields = {model: declared[key] for key, model in FIELDS.items() if declared.get(key) not in (None, "")}
            if declared.get("frozen_on"):
                fields["frozen_on"] = datetime.date.fromisoformat(declared["frozen_on"])
            lot = actions.declare_lot(line, declared["code"], by=by, **fields)
            actions.link_qc_records(lot, line.qc_records.filter(details__lot=declared["code"]), by=by)
            made.append(lot)
    return made
