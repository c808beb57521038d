"""Reads of distribution that decide or aggregate."""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db.models import QuerySet

from core.roles import is_curator
from distribution.models import RequestedLine, ReservedVial, Shipment
from lines.models import CellLine


def recipients_holding(lines: QuerySet[CellLine] | Iterable[CellLine]) -> QuerySet[Shipment]:
    """Shipments of these lines (a queryset or list of CellLines): who received what, when."""
    return (
        Shipment.objects.filter(line__in=lines)
        .select_related("line", "request__requester")
        .order_by("shipped_on", "id")
    )


def vials_of_items(items: Iterable[RequestedLine], user: User | None) -> dict[int, list[dict]]:
    """Requested line id → the vials reserved or shipped for it (vial id, lot, status,
    shipped on, received on), in one query. Storage positions are the curators': only
    a curator's rows carry `location` and `position` (of a vial still in the bank)."""
    ids = [item.pk for item in items]
    curator = is_curator(user)
    found: dict[int, list[dict]] = {pk: [] for pk in ids}
    rows = (
        ReservedVial.objects.filter(item_id__in=ids, released_at__isnull=True)
        .select_related("vial__lot", "vial__location", "shipment")
        .order_by("item_id", "vial__lot__frozen_on", "vial__identifier")
    )
    for row in rows:
        vial = row.vial
        entry = {
            "vial": vial.identifier,
            "lot": vial.lot.code,
            "status": vial.status,
            "status_label": vial.get_status_display(),
            "shipped_on": row.shipment.shipped_on if row.shipment else None,
            "received_on": row.received_on,
        }
        if curator:
            entry["location"] = vial.location.code if vial.location else None
            entry["position"] = vial.position or None
        found[row.item_id].append(entry)
    return found
