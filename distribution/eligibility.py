"""May this request use these lines? The request-level glue around the DUO rules.

A line is judged in two steps: the line itself (released, available for
distribution, its donor's consent on record), then its donor's consent against
the purpose, which is donors/duo.py's (`duo.evaluate`). Each line gets APPROVE,
DENY or ABSTAIN (a curator decides), the reasons in plain words with the DUO CURIE
they come from, and the conditions the requester accepts in the agreement.

`evaluate()` is pure (plain facts, no database); `evaluate_lines()` reads the
facts of many lines in three flat queries; `filter_lines_for_purpose()` is the
same question for a whole queryset in one SQL query (the catalog's purpose filter,
lines.holdings.filters.lines_for_purpose), held equal to `evaluate()` by
tests/distribution/test_eligibility.py.

Line-level judgement calls (README "Distribution"): a line whose depositor
restricts distribution (availability "restricted") is ABSTAIN; a line not
distributed or withdrawn is DENY; a line whose donor has no consent on record is
ABSTAIN.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from donors import duo
from donors.duo import (
    ABSTAIN,
    DENY,
    ConsentFacts,
    Purpose,
    Reason,
    check_purpose,
    disease_ancestors_for,
)
from donors.models import Consent
from lines.holdings.filters import lines_for_purpose


@dataclass(frozen=True)
class LineFacts:
    name: str
    status: str = "released"
    availability: str = "available"
    consent: ConsentFacts | None = None


@dataclass
class Eligibility:
    line: str
    decision: str
    reasons: list = field(default_factory=list)
    conditions: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "line": self.line,
            "decision": self.decision,
            "reasons": [r.as_dict() for r in self.reasons],
            "conditions": [c.as_dict() for c in self.conditions],
        }


def evaluate(line: LineFacts, purpose: Purpose, disease_ancestors: frozenset | None = None) -> Eligibility:
    """The decision for one line and one Purpose.

    `disease_ancestors` is the set of MONDO ancestors of `purpose.disease`, or None
    when the hierarchy does not hold that disease (then a DS match cannot be decided).
    The SQL twin of the line checks is lines.holdings.filters.lines_for_purpose.
    """
    if line.status == "withdrawn":
        return Eligibility(line.name, DENY, [Reason("This line has been withdrawn and is not distributed.")])
    if line.status != "released":
        return Eligibility(line.name, DENY, [Reason("This line is not released by the bank yet.")])
    if line.availability == "not_distributed":
        return Eligibility(line.name, DENY, [Reason("This line is not available for distribution.")])
    decisions, reasons = [], []
    if line.availability == "restricted":
        decisions.append(ABSTAIN)
        reasons.append(Reason("The depositor restricts distribution of this line; a curator decides."))
    if line.consent is None:
        reasons.append(Reason("No consent is recorded for this line's donor; a curator checks the consent document."))
        return Eligibility(line.name, ABSTAIN, reasons)
    answer = duo.evaluate(line.consent, purpose, disease_ancestors)
    if line.consent.withdrawn:
        # Withdrawn consent ends distribution whatever else holds: that is the one reason.
        return Eligibility(line.name, answer.decision, answer.reasons, answer.conditions)
    return Eligibility(
        line.name,
        duo.combine([*decisions, answer.decision]),
        reasons + answer.reasons,
        answer.conditions,
    )


# --- database-facing -----------------------------------------------------------


def facts_for_lines(lines: QuerySet | Iterable) -> list[LineFacts]:
    """LineFacts for CellLines (a queryset, or a list of instances), in order.

    Three flat queries (lines, consents, consent codes) and no model instances:
    about 15,000 lines a second (bench/eligibility.py)."""
    if isinstance(lines, QuerySet):
        rows = list(lines.values_list("name", "status", "availability", "donor_id"))
        consents = Consent.objects.filter(donor_id__in=lines.values("donor_id"))
    else:
        rows = [(line.name, line.status, line.availability, line.donor_id) for line in lines]
        consents = Consent.objects.filter(donor_id__in={row[3] for row in rows if row[3] is not None})
    consent_rows = list(consents.values_list("id", "donor_id", "disease", "withdrawn_on"))
    codes: dict[int, set[str]] = {}
    through = Consent.codes.through
    for consent_id, code in through.objects.filter(consent_id__in=consents.values("id")).values_list(
        "consent_id", "duoterm_id"
    ):
        codes.setdefault(consent_id, set()).add(code)
    by_donor = {
        donor_id: ConsentFacts(frozenset(codes.get(consent_id, ())), disease, withdrawn_on is not None)
        for consent_id, donor_id, disease, withdrawn_on in consent_rows
    }
    return [
        LineFacts(name, status, availability, by_donor.get(donor_id) if donor_id is not None else None)
        for name, status, availability, donor_id in rows
    ]


def evaluate_lines(lines: QuerySet | Iterable, purpose: Purpose) -> list[Eligibility]:
    """Eligibility of each CellLine in `lines` (a queryset or a list), in order."""
    ancestors = disease_ancestors_for(purpose.disease) if duo.DS in purpose.codes else frozenset()
    return [evaluate(facts, purpose, ancestors) for facts in facts_for_lines(lines)]


def filter_lines_for_purpose(
    queryset: QuerySet,
    purpose_codes: Iterable[str],
    disease: str | None = None,
    commercial: bool = False,
    organisation_type: str = "academic",
) -> QuerySet:
    """The lines of `queryset` that `evaluate()` would APPROVE for this purpose, in SQL.

    Lines that would be ABSTAIN (a curator could still allow them) are left out:
    this lists what the purpose may use now. Raises PurposeError for a purpose that
    cannot be judged.
    """
    purpose = Purpose(frozenset(purpose_codes), disease or None, bool(commercial), organisation_type)
    check_purpose(purpose)
    return lines_for_purpose(queryset, purpose)


def purpose_of(request: Any) -> Purpose:
    """The research purpose a DistributionRequest states, as the eligibility rules read it."""
    return Purpose(
        frozenset(request.purpose_codes),
        request.purpose_disease or None,
        request.commercial,
        request.organisation_type,
    )
