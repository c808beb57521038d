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
        "Curator decides",
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
# What stock says of a distributed line (stock.availability derives which applies from
# released lots with vials in stock); the same words wherever stock shows.
STOCK_AVAILABLE = "available"
ON_REQUEST = "on_request"
OUT_OF_STOCK = "out_of_stock"
STOCK_TERMS = {
    STOCK_AVAILABLE: Term(
        STOCK_AVAILABLE, "Available", "Vials of a released lot are in stock and can be shipped.", True
    ),
    ON_REQUEST: Term(
        ON_REQUEST,
        "Available on request (expand to order)",
        "No vials are banked yet: the bank expands the line to order.",
        True,
    ),
    OUT_OF_STOCK: Term(
        OUT_OF_STOCK,
        "Out of stock",
        "Every released lot is used up, quarantined or recalled; none can be shipped now.",
        True,
    ),
    Availability.NOT_DISTRIBUTED: TERMS[Availability.NOT_DISTRIBUTED],
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
