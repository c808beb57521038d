"""The rule that derives a line's availability
from its stock: released lots with vials in stock. Nobody types it by hand.

The words (label and one sentence per code) are lines.availability's, the one
vocabulary; `VOCABULARY` names them here. A vial counts as in stock when it is in stock and
its lot is released: `vial_counts_in_stock` (Python) and `in_stock_vials_q` (SQL)
say so side by side, and tests/stock/test_availability.py holds them to agreeing.
The result is kept on the line (CellLine.vials_in_stock, CellLine.stock_summary) by
`refresh_line_stock`, called by every stock action, so the catalog can filter on it.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, F, Q

from core.catalog_version import bump
from lines.availability import ON_REQUEST, OUT_OF_STOCK, STOCK_AVAILABLE, STOCK_TERMS
from lines.models import Availability, CellLine, CurationStatus
from stock.models import Lot, LotStatus, VialStatus

AVAILABLE, NOT_DISTRIBUTED = STOCK_AVAILABLE, Availability.NOT_DISTRIBUTED.value
__all__ = ["AVAILABLE", "NOT_DISTRIBUTED", "ON_REQUEST", "OUT_OF_STOCK", "VOCABULARY"]
# The words are lines.availability's (the one vocabulary); this module decides which applies.
VOCABULARY = STOCK_TERMS


def vial_counts_in_stock(vial_status: str, lot_status: str) -> bool:
    """A vial a request can be given: in stock, of a released lot."""
    return vial_status == VialStatus.IN_STOCK and lot_status == LotStatus.RELEASED


def in_stock_vials_q(prefix: str = "", *, lot_prefix: str | None = None) -> Q:
    """The SQL twin of vial_counts_in_stock, on Vial (or through `prefix`, e.g. "vials__"
    from a lot, with lot_prefix="" since the lot is then the row itself)."""
    lot = prefix + "lot__" if lot_prefix is None else lot_prefix
    return Q(**{f"{prefix}status": VialStatus.IN_STOCK, f"{lot}status": LotStatus.RELEASED})


def is_distributed(line: CellLine) -> bool:
    return line.status == CurationStatus.RELEASED and line.availability != Availability.NOT_DISTRIBUTED


def summarise(*, distributed: bool, vials: int, lots: int, has_lots: bool) -> dict:
    """The line's stock block: availability code, its words, and the counts."""
    if not distributed:
        code = NOT_DISTRIBUTED
    elif vials:
        code = AVAILABLE
    elif has_lots:
        code = OUT_OF_STOCK
    else:
        code = ON_REQUEST
    term = VOCABULARY[code]
    label = term.label
    if code == AVAILABLE:
        label = f"Available ({vials} vial{'s' if vials != 1 else ''} in {lots} lot{'s' if lots != 1 else ''})"
    elif code == ON_REQUEST:
        label = "Available on request (expand to order)"
    return {
        "availability": code,
        "label": label,
        "explanation": term.sentence,
        "vials_in_stock": vials,
        "lots_in_stock": lots,
    }


def stock_counts(line_ids: Iterable[int]) -> dict[int, tuple[int, int, bool]]:
    """line id → (vials in stock, lots with vials in stock, has any lot), in one query."""
    ids = list(line_ids)
    counts: dict[int, tuple[int, int, bool]] = {i: (0, 0, False) for i in ids}
    vial_filter = in_stock_vials_q("vials__", lot_prefix="")
    rows = (
        Lot.objects.filter(line_id__in=ids)
        .order_by()
        .values("line_id")
        .annotate(n_vials=Count("vials", filter=vial_filter), n_lots=Count("id", filter=vial_filter, distinct=True))
    )
    for row in rows:
        counts[row["line_id"]] = (row["n_vials"], row["n_lots"], True)
    return counts


def refresh_line_stock(lines: Iterable[int | CellLine]) -> None:
    """Recompute and store the stock block of these lines (ids, or CellLines with
    their status and availability loaded) after any stock change."""
    lines = list(lines)
    given = {line.pk: line for line in lines if isinstance(line, CellLine)}
    ids = sorted({line.pk if isinstance(line, CellLine) else line for line in lines})
    if not ids:
        return
    counts = stock_counts(ids)
    missing = [pk for pk in ids if pk not in given]
    if missing:
        given.update(
            (line.pk, line)
            for line in CellLine.objects.filter(pk__in=missing)
            .order_by()
            .only("id", "status", "availability", "vials_in_stock", "stock_summary")
        )
    changed = [given[pk] for pk in ids]
    visible_change = False
    for line in changed:
        vials, lots, has_lots = counts[line.pk]
        visible_change |= _set_stock(line, vials=vials, lots=lots, has_lots=has_lots)
    if len(changed) <= SMALL_REFRESH:
        # A plain UPDATE per line: for the one line a reservation touches, much cheaper
        # to build than bulk_update's CASE expression.
        for line in changed:
            _write_stock(line)
    else:
        CellLine._base_manager.bulk_update(changed, ["vials_in_stock", "stock_summary"], batch_size=500)
    if visible_change:
        bump()


def store_line_stock(line: CellLine, *, vials: int, lots: int, has_lots: bool) -> None:
    """Store the stock block of one line whose counts the caller has just read (the
    reservation's statement counts the stock it leaves)."""
    if _set_stock(line, vials=vials, lots=lots, has_lots=has_lots):
        bump()
    _write_stock(line)


@dataclass(frozen=True)
class ExpectedStock:
    """The stock block a line gets when the counts read are `vials` and `lots`."""

    vials: int
    lots: int
    vials_in_stock: int
    stock_summary: dict


def stock_after_taking(line: CellLine, count: int) -> ExpectedStock | None:
    """The block `line` gets when `count` of the vials its stored block counts are
    taken and no lot runs out, for a reservation to store in its own statement when
    the counts it reads are these; None when the stored block is not loaded, or when
    the change shows in the cached catalog figures (the caller then stores the block
    with store_line_stock, which bumps the catalog version)."""
    if {"vials_in_stock", "stock_summary"} & line.get_deferred_fields() or not line.stock_summary:
        return None
    vials = int(line.stock_summary.get("vials_in_stock", 0)) - count
    lots = int(line.stock_summary.get("lots_in_stock", 0))
    if vials <= 0 or lots <= 0:
        return None
    probe = CellLine(
        status=line.status,
        availability=line.availability,
        vials_in_stock=line.vials_in_stock,
        stock_summary=line.stock_summary,
    )
    if _set_stock(probe, vials=vials, lots=lots, has_lots=True):
        return None
    return ExpectedStock(vials, lots, probe.vials_in_stock, probe.stock_summary)


def _set_stock(line: CellLine, *, vials: int, lots: int, has_lots: bool) -> bool:
    """Put the new block on `line`; whether what the cached catalog figures count
    changed (the availability code, in stock or not). Only that bumps the catalog
    version: a reservation that leaves a line available with two vials fewer changes
    no facet count, and a bump would drop every cached page for nothing. The counts
    themselves are read from the line's row, never from a versioned cache."""
    known = not {"vials_in_stock", "stock_summary"} & line.get_deferred_fields()
    before = (line.vials_in_stock > 0, (line.stock_summary or {}).get("availability")) if known else None
    distributed = is_distributed(line)
    # The catalog's "in stock" filter reads this: vials that can be shipped now.
    line.vials_in_stock = vials if distributed else 0
    line.stock_summary = summarise(distributed=distributed, vials=vials, lots=lots, has_lots=has_lots)
    return before != (line.vials_in_stock > 0, line.stock_summary["availability"])


def _write_stock(line: CellLine) -> None:
    # The base manager: its update does not bump the catalog version (the caller does,
    # when the change shows in cached figures).
    CellLine._base_manager.filter(pk=line.pk).update(
        vials_in_stock=line.vials_in_stock, stock_summary=line.stock_summary
    )


SMALL_REFRESH = 3


# The order vials are reserved in when the requester names no lot (stock.actions.claim_vials).
OLDEST_FIRST = (F("frozen_on").asc(nulls_last=True), "id")


def requestable_lots(line_ids: Iterable[int]) -> dict[int, list[Lot]]:
    """line id → its lots a requester may ask for (released, with vials in stock),
    oldest first; each lot carries `vials_in_stock`. One query."""
    found: dict[int, list[Lot]] = {}
    lots = (
        Lot.objects.filter(line_id__in=list(line_ids), status=LotStatus.RELEASED)
        .annotate(vials_in_stock=Count("vials", filter=in_stock_vials_q("vials__", lot_prefix="")))
        .filter(vials_in_stock__gt=0)
        .order_by("line_id", *OLDEST_FIRST)
    )
    for lot in lots:
        found.setdefault(lot.line_id, []).append(lot)
    return found


def check_requested_lot(line: CellLine, code: str) -> tuple[Lot | None, str]:
    """The lot `code` of `line` a requester asks for, or why it cannot be asked for:
    it must be a lot of that line, released, with vials in stock."""
    lot = Lot.objects.filter(line=line, code=code).first()
    if lot is None:
        return None, f"{line.name} has no lot {code}."
    if lot.status != LotStatus.RELEASED:
        return None, f"Lot {code} of {line.name} is {lot.get_status_display().lower()}, not released."
    if not lot.vials.filter(in_stock_vials_q()).exists():
        return None, f"Lot {code} of {line.name} has no vials in stock."
    return lot, ""
