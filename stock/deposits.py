"""Lots a depositor declared in a submission (protocol version 2), and from version 3
the vials of each lot it sends, recorded in stock.

The submission writer (lines/) keeps each line's declared lots on the line
(CellLine.declared_lots) and each QC record's lot code in its details; lines may not
import stock, so a curator takes them in here (the stock page lists the lines
waiting): each declared lot becomes a Lot awaiting release, with the QC records the
document made on it, its panel verdict, and the vials it lists (in stock, not yet in
a box: the curator stores them on arrival with a move). A vial id the bank already
holds refuses the whole line, naming every such id. Releasing stays the curator's
step."""

import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet

from lines.models import CellLine
from stock import actions
from stock.availability import refresh_line_stock
from stock.models import Lot, StockEvent, Vial, VialStatus

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
    declared_lots = waiting(line)
    _check_vial_ids(line, declared_lots)
    with transaction.atomic():
        for declared in declared_lots:
            fields = {model: declared[key] for key, model in FIELDS.items() if declared.get(key) not in (None, "")}
            if declared.get("frozen_on"):
                fields["frozen_on"] = datetime.date.fromisoformat(declared["frozen_on"])
            lot = actions.declare_lot(line, declared["code"], by=by, **fields)
            actions.link_qc_records(lot, line.qc_records.filter(details__lot=declared["code"]), by=by)
            _record_vials(lot, declared.get("vials") or [], by=by)
            made.append(lot)
        refresh_line_stock({line.pk})
    return made


def _vial_ids(declared_lots: list[dict]) -> list[str]:
    return [
        vial["id"]
        for declared in declared_lots
        for vial in declared.get("vials") or []
        if isinstance(vial, dict) and isinstance(vial.get("id"), str)
    ]


def _check_vial_ids(line: CellLine, declared_lots: list[dict]) -> None:
    taken = sorted(Vial.objects.filter(identifier__in=_vial_ids(declared_lots)).values_list("identifier", flat=True))
    if taken:
        raise actions.StockError(
            f"{line.name}: the bank already holds vial(s) {', '.join(taken)}; nothing was recorded.",
            {"vials": taken},
        )


def _record_vials(lot: Lot, vials: list, *, by: User) -> None:
    """The lot's declared vials, in stock without a position; their history starts at
    the declaring event, as a received vial's starts at its receiving event."""
    if not vials:
        return
    event = StockEvent.objects.create(
        action="vials_declared", actor=by, lot=lot, line_id=lot.line_id, details={"lot": lot.code, "vials": len(vials)}
    )
    Vial.objects.bulk_create(
        (
            Vial(identifier=v["id"], name=v.get("name") or "", lot=lot, status=VialStatus.IN_STOCK, received=event)
            for v in vials
            if isinstance(v, dict)
        ),
        batch_size=2000,
    )
