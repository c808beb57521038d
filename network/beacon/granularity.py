"""What a caller may learn: anonymous callers get boolean or count answers, and a
count below settings.BEACON_COUNT_THRESHOLD as a range, so that no count singles
out a donor; signed-in callers get records (each shown as far as
donors.disclosure allows)."""

from typing import Any

from django.conf import settings

BOOLEAN, COUNT, RECORD = "boolean", "count", "record"
ORDER = (BOOLEAN, COUNT, RECORD)


def allowed_for(user: Any) -> str:
    return RECORD if user is not None and user.is_authenticated else COUNT


def granted(requested: str, user: Any) -> str:
    """The granularity answered: what was asked, capped by what the caller may get."""
    ceiling = allowed_for(user)
    return requested if ORDER.index(requested) <= ORDER.index(ceiling) else ceiling


def count_range(count: int) -> dict[str, int] | None:
    """The range an exact count is reported as, or None where it may be exact:
    zero, and counts at or over the threshold."""
    threshold = settings.BEACON_COUNT_THRESHOLD
    if 0 < count < threshold:
        return {"from": 1, "to": threshold - 1}
    return None


def summary(count: int, granularity: str, user: Any) -> tuple[dict, str, dict | None]:
    """(responseSummary, returned granularity, countRange or None) for `count` matches.
    A count shown as a range is answered at boolean granularity (Beacon's count
    section has room only for an exact number); the range goes in `info`."""
    exists = count > 0
    if granularity == BOOLEAN:
        return {"exists": exists}, BOOLEAN, None
    hidden = count_range(count) if not (user is not None and user.is_authenticated) else None
    if hidden is not None:
        return {"exists": exists}, BOOLEAN, hidden
    return {"exists": exists, "numTotalResults": count}, granularity, None
