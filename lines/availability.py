"""The one vocabulary for whether a line can be had: a label and one sentence for each
availability, used by the catalog badge and legend, the line page, the basket, the
request pages and the API (`availability_label`), so "restricted" means one thing.

The rule behind "can be requested" is distribution.eligibility's (DENY for a line
not distributed, ABSTAIN — a curator decides — for one the depositor restricts);
this module only words it.
"""

from dataclasses import dataclass

from lines.models import Availability, CellLine, CurationStatus


@dataclass(frozen=True)
class Term:
    value: str
    label: str
    sentence: str
    requestable: bool


TERMS = {
    Availability.AVAILABLE: Term(
        Availability.AVAILABLE,
        "Available",
        "Can be requested: your purpose is checked against the donor's consent at once.",
        True,
    ),
    Availability.RESTRICTED: Term(
        Availability.RESTRICTED,
        "On request",
        "Can be requested, but the depositor restricts its distribution: a curator decides each request.",
        True,
    ),
    Availability.NOT_DISTRIBUTED: Term(
        Availability.NOT_DISTRIBUTED,
        "Not distributed",
        "Listed for reference only: the bank does not distribute this line.",
        False,
    ),
}
WITHDRAWN = Term("withdrawn", "Withdrawn", "Withdrawn: no longer distributed (see why on its page).", False)


def term(availability: str, status: str = CurationStatus.RELEASED) -> Term:
    """The term for a line's availability; a withdrawn line is withdrawn whatever it says."""
    if status == CurationStatus.WITHDRAWN:
        return WITHDRAWN
    return TERMS.get(availability, TERMS[Availability.NOT_DISTRIBUTED])


def is_requestable(line: CellLine) -> bool:
    """Whether the line page offers "Request this line": released and distributed."""
    return line.status == CurationStatus.RELEASED and term(line.availability).requestable
