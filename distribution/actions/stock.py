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
import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from core.prepared import execute_prepared
from distribution.models import (
    DistributionRequest,
    InvalidAction,
    LineDecision,
    NotAllowed,
    RequestedLine,
    ReservedVial,
    Shipment,
)
from lines.models import CellLine
from stock import actions as stock_actions
from stock.actions import VialLink
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
    now = timezone.now()
    for item, line, lot in _approved_lines(request):
        link = VialLink(ReservedVial._meta.db_table, {"item_id": item.pk, "reserved_at": now, "release_reason": ""})
        try:
            claimed = stock_actions.claim_vials(line, item.vials, by=by, lot=lots.get(line.name) or lot, link=link)
        except stock_actions.StockError as error:
            # A line the bank holds no lot of is expanded to order: nothing to reserve.
            if error.problems.get("has_lots"):
                problems[line.name] = error.message
            continue
        reserved[line.name] = [identifier for _pk, identifier in claimed]
    if problems:
        raise InvalidAction(
            "Not enough stock to approve: " + " ".join(problems.values()) + " Receive stock or reject the line.",
            {"lines": problems},
        )
    return {"reserved": reserved} if reserved else {}


def _approved_lines(request: DistributionRequest) -> list[tuple[RequestedLine, CellLine, Lot | None]]:
    """The approved lines of the request that hold no reservation yet, with what a
    claim reads of the line and the lot asked for, in one query (raw SQL: the ORM's
    query building and row instantiation cost more than the query itself here).

    The lines' rows are locked (FOR UPDATE, in line order so two requests sharing
    lines cannot deadlock): two approvals that both fit then claim one after the
    other, and the second counts the stock the first left. Without the lock each
    would count the other's reserved vials as still in stock (its snapshot predates
    the other's commit) and the line would keep a count it no longer has."""
    q = connection.ops.quote_name
    item_t, line_t = q(RequestedLine._meta.db_table), q(CellLine._meta.db_table)
    lot_t, reserved_t = q(Lot._meta.db_table), q(ReservedVial._meta.db_table)
    lock = " FOR UPDATE OF ln" if connection.features.has_select_for_update_of else ""
    sql = f"""
        SELECT i.id, i.vials, i.lot_id, lo.code, ln.id, ln.name, ln.status, ln.availability,
            ln.vials_in_stock, ln.stock_summary
        FROM {item_t} i JOIN {line_t} ln ON ln.id = i.line_id LEFT JOIN {lot_t} lo ON lo.id = i.lot_id
        WHERE i.request_id = %(request)s AND i.decision = %(approved)s
            AND NOT EXISTS (SELECT 1 FROM {reserved_t} r WHERE r.item_id = i.id AND r.released_at IS NULL)
        ORDER BY ln.id, i.id{lock}
    """  # noqa: S608 -- table names from the models, values as parameters
    params: dict[str, Any] = {"request": request.pk, "approved": str(LineDecision.APPROVED)}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            execute_prepared(cursor, sql, params)  # planned once per connection
        else:
            cursor.execute(sql, params)
        rows = cursor.fetchall()
    found = []
    for item_id, vials, lot_id, lot_code, line_id, name, status, availability, in_stock, summary in rows:
        if isinstance(summary, str):  # SQLite hands JSON back as text
            summary = json.loads(summary)
        line = CellLine(
            id=line_id,
            name=name,
            status=status,
            availability=availability,
            vials_in_stock=in_stock,
            stock_summary=summary,
        )
        lot = Lot(id=lot_id, code=lot_code, line_id=line_id) if lot_id is not None else None
        item = RequestedLine(id=item_id, request_id=request.pk, line_id=line_id, vials=vials, lot_id=lot_id)
        found.append((item, line, lot))
    return found


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
