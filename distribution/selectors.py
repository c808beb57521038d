"""Reads of distribution that decide or aggregate."""

from collections.abc import Iterable

from django.db.models import QuerySet

from distribution.models import Shipment
from lines.models import CellLine


def recipients_holding(lines: QuerySet[CellLine] | Iterable[CellLine]) -> QuerySet[Shipment]:
    """Shipments of these lines (a queryset or list of CellLines): who received what, when."""
    return (
        Shipment.objects.filter(line__in=lines)
        .select_related("line", "request__requester")
        .order_by("shipped_on", "id")
    )
