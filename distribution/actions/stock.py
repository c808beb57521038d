"""Where the request workflow meets the bank's stock (stock/): approving reserves
specific vials, shipping records which vials left, the recipient confirms receipt
per vial, and cancelling or rejecting puts reserved vials back.

These run inside the request step's transaction (distribution.actions.requests._apply
holds the request's row lock); the vials themselves are claimed by conditional
update in stock.actions.claim_vials, so two curators approving two requests at once
never reserve the same vial. A line whose bank holds no lot at all is supplied by
expansion to order: nothing is reserved for it.
"""

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from distribution.models import (
    DistributionRequest,
    InvalidAction,
    LineDecision,
    NotAllowed,
    RequestedLine,
    ReservedVial,
    Shipment,
)
from stock import actions as stock_actions
from stock.availability import refresh_line_stock
from stock.models import Lot, VialStatus


def _active(item_or_request: RequestedLine | DistributionRequest) -> QuerySet[ReservedVial]:
    if isinstance(item_or_request, RequestedLine):
        return ReservedVial.objects.filter(item=item_or_request, released_at__isnull=True)
    return ReservedVial.objects.filter(item__request=item_or_request, released_at__isnull=True)


def reserve_for_request(
    request: DistributionRequest, by: User, lots: Mapping[str, Lot] | None = None
) -> dict[str, Any]:
    """Reserve the vials of every approved line: of the lot the requester asked for
    (RequestedLine.lot, or `lots[line name]`), else the oldest released lot first."""
    lots = lots or {}
    reserved: dict[str, list[str]] = {}
    problems: dict[str, str] = {}
    items = list(
        request.items.select_related("line", "lot")
        .filter(decision=LineDecision.APPROVED)
        # Only what a claim reads: a line row also holds large text and JSON columns.
        .only(
            *("id", "request_id", "vials", "lot__id", "lot__code"),
            *("line__id", "line__name", "line__status", "line__availability"),
        )
    )
    done = set(_active(request).order_by().values_list("item_id", flat=True))
    for item in items:
        if item.pk in done:
            continue
        try:
            claimed = stock_actions.claim_vials(item.line, item.vials, by=by, lot=lots.get(item.line.name) or item.lot)
        except stock_actions.StockError as error:
            # Asked only when the claim fails: a line the bank holds no lot of is
            # expanded to order, nothing to reserve.
            if Lot.objects.filter(line_id=item.line_id).exists():
                problems[item.line.name] = error.message
            continue
        ReservedVial.objects.bulk_create(ReservedVial(item=item, vial_id=pk) for pk, _identifier in claimed)
        reserved[item.line.name] = [identifier for _pk, identifier in claimed]
    if problems:
        raise InvalidAction(
            "Not enough stock to approve: " + " ".join(problems.values()) + " Receive stock or reject the line.",
            {"lines": problems},
        )
    return {"reserved": reserved} if reserved else {}


def ship_reserved(
    request: DistributionRequest, shipments: Sequence[Shipment], data: Sequence[Mapping[str, Any]], by: User
) -> None:
    """Say which reserved vials each shipment took (`vial_ids` in its data, or as many
    reserved vials as it ships); they leave the bank as shipped, and the request's
    other reserved vials go back in stock."""
    problems = {}
    shipped: list[int] = []
    for n, (shipment, given) in enumerate(zip(shipments, data, strict=True)):
        if given.get("courier"):
            shipment.courier = str(given["courier"])[:60]
            shipment.save(update_fields=["courier"])
        open_rows = {
            r.vial.identifier: r
            for r in _active(request).filter(item__line=shipment.line, shipment__isnull=True).select_related("vial")
        }
        wanted = list(given.get("vial_ids") or [])
        if not open_rows:
            if wanted:
                problems[f"shipments[{n}].vial_ids"] = f"no vials of {shipment.line.name} are reserved for this request"
            continue
        unknown = [v for v in wanted if v not in open_rows]
        if unknown:
            problems[f"shipments[{n}].vial_ids"] = "not reserved for this request: " + ", ".join(unknown)
            continue
        chosen = wanted or list(open_rows)[: shipment.vials]
        if len(chosen) != shipment.vials:
            problems[f"shipments[{n}].vials"] = (
                f"{shipment.vials} vial(s) shipped but {len(chosen)} reserved vial(s) named"
                if wanted
                else f"only {len(chosen)} vial(s) of {shipment.line.name} are reserved"
            )
            continue
        for identifier in chosen:
            row = open_rows[identifier]
            row.shipment = shipment
            row.save(update_fields=["shipment"])
            shipped.append(row.vial_id)
    if problems:
        raise InvalidAction("Some shipments do not match the reserved vials.", problems)
    moved = stock_actions.change_vials(shipped, VialStatus.SHIPPED, by=by, from_statuses=[VialStatus.RESERVED])
    refresh_line_stock(stock_actions.lines_of(moved))
    # The request is shipped in one step: what it reserved and did not ship goes back.
    release_reservations(request, by, "Reserved but not shipped")


def release_reservations(request: DistributionRequest, by: User, reason: str) -> int:
    """Put the vials reserved for a cancelled or rejected request back in stock."""
    rows = list(_active(request).filter(shipment__isnull=True))
    now = timezone.now()
    for row in rows:
        row.released_at, row.release_reason = now, reason or "Request closed"
    ReservedVial.objects.bulk_update(rows, ["released_at", "release_reason"])
    ids = [r.vial_id for r in rows]
    moved = stock_actions.change_vials(
        ids, VialStatus.IN_STOCK, by=by, reason=reason, from_statuses=[VialStatus.RESERVED]
    )
    refresh_line_stock(stock_actions.lines_of(ids))
    return len(moved)


def confirm_receipt(
    request: DistributionRequest, by: User, vial_ids: Sequence[str] | None = None, on: datetime.date | None = None
) -> list[str]:
    """The recipient confirms which shipped vials arrived (all of them by default)."""
    if by.pk != request.requester_id:
        raise NotAllowed("Only the requester confirms receipt.")
    on = on or timezone.localdate()
    rows = ReservedVial.objects.filter(item__request=request, shipment__isnull=False, received_on__isnull=True)
    if vial_ids is not None:
        known = set(rows.filter(vial__identifier__in=vial_ids).values_list("vial__identifier", flat=True))
        unknown = sorted(set(vial_ids) - known)
        if unknown:
            raise InvalidAction(
                "These vials were not shipped to you (or are confirmed already).", {"vial_ids": unknown}
            )
        rows = rows.filter(vial__identifier__in=vial_ids)
    confirmed = list(rows.values_list("vial__identifier", flat=True))
    rows.update(received_on=on)
    return confirmed
