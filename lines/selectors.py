"""Reads that decide who sees what across lines and donors.

Line visibility itself is `CellLine.objects.visible_to(user)`; a donor is seen
through its lines, so donor visibility lives here, in the lines layer, rather than
on the Donor model (donors sit below lines and must not import them).
"""

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from core.roles import is_curator
from donors.models import Donor
from lines.models import CellLine


def donors_visible_to(user: Any, donors: QuerySet[Donor] | None = None) -> QuerySet[Donor]:
    """Donors with at least one line the user may see; curators see all.
    `donors` narrows the starting set (default: every donor)."""
    donors = Donor.objects.all() if donors is None else donors
    if is_curator(user):
        return donors
    # EXISTS rather than a join + DISTINCT: no duplicate rows to remove, and a
    # page of donors ordered by code stays an index scan at 100,000 donors.
    visible_lines = CellLine.objects.visible_to(user).filter(donor=OuterRef("pk"))
    return donors.filter(Exists(visible_lines))
