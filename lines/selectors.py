"""Reads that decide who sees what across lines and donors.

Line visibility itself is `CellLine.objects.visible_to(user)`; a donor is seen
through its lines, so donor visibility lives here, in the lines layer, rather than
on the Donor model (donors sit below lines and must not import them).
"""

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from core.roles import is_curator
from donors.models import Donor
from lines.models import CellLine, CurationStatus


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


def tombstone(name: str) -> CellLine | None:
    """The withdrawn line of that name, for the permanent page that says it was withdrawn,
    when and why, to those who may no longer see the line itself. Only a line that was
    once public (released, as its history shows) has a tombstone: a line withdrawn before
    it was ever released has none."""
    line = (
        CellLine.objects.filter(name=name, status=CurationStatus.WITHDRAWN)
        .select_related("institution")
        .only("name", "withdrawn_at", "status_reason", "released_at", "cellosaurus_accession", "institution__code")
        .first()
    )
    if line is None:
        return None
    was_public = line.released_at is not None or (
        CellLine.history.filter(id=line.pk, status=CurationStatus.RELEASED).exists()
    )
    return line if was_public else None


def tombstone_facts(line: CellLine) -> dict[str, Any]:
    """What a tombstone says, for the page and the API alike."""
    return {
        "name": line.name,
        "status": CurationStatus.WITHDRAWN.value,
        "withdrawn_at": line.withdrawn_at.isoformat() if line.withdrawn_at else None,
        "reason": line.status_reason or None,
        "released_at": line.released_at.isoformat() if line.released_at else None,
        "rrid": f"RRID:{line.cellosaurus_accession}" if line.cellosaurus_accession else None,
        "institution": line.institution.code if line.institution is not None else None,
        "detail": f"{line.name} has been withdrawn and is no longer distributed.",
    }
