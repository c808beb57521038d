"""Writes that span several models: creating a request with its lines.

The state changes of an existing request are methods on DistributionRequest.
"""

from django.db import transaction

from core.roles import is_depositor, is_researcher
from distribution.eligibility import DENY, Purpose, check_purpose, evaluate_lines
from distribution.models import (
    DistributionRequest,
    InvalidAction,
    NotAllowed,
    RequestedLine,
    RequestEvent,
    RequestStatus,
)

MAX_VIALS_PER_LINE = 10


def may_request(user):
    """Researchers and depositors request lines; curators decide them."""
    return is_researcher(user) or is_depositor(user)


def create_request(requester, lines, *, purpose_codes, purpose_disease=None, commercial=False,
                   organisation_type=None, organisation="", purpose_summary="", vials=None,
                   accepted_conditions=()):
    """A draft request for `lines` (CellLine objects the requester may see).

    Every line is judged against its donor's consent at once: a line the purpose
    may not use (DENY) is refused here, naming it and why. `vials` maps a line
    name to a number of vials (default 1). Raises NotAllowed or InvalidAction."""
    if not may_request(requester):
        raise NotAllowed("Only researchers and depositors may request lines.")
    profile = getattr(requester, "profile", None)
    profile_type = profile.organisation_type if profile else "academic"
    if organisation_type is None:
        organisation_type = profile_type
    elif profile_type == "commercial" and organisation_type != "commercial":
        # Non-commercial consent (NCU/NPU) turns on this field: a company may not
        # request as an academic. The reverse (stricter) is allowed.
        raise InvalidAction(
            "Your profile says your organisation is commercial; a request cannot state otherwise. "
            "Ask a curator to correct your profile if it is wrong.",
            {"organisation_type": "must be commercial"},
        )
    if not organisation:
        institution = profile.institution if profile else None
        organisation = institution.name if institution else ""
    purpose = Purpose(frozenset(purpose_codes), purpose_disease or None, bool(commercial), organisation_type)
    try:
        from core.models import DiseaseTerm

        known = set(DiseaseTerm.objects.filter(curie=purpose.disease).values_list("curie", flat=True))
        check_purpose(purpose, known_diseases=known)
    except ValueError as error:
        raise InvalidAction(str(error), getattr(error, "problems", {})) from error
    lines = list(lines)
    if not lines:
        raise InvalidAction("Choose at least one line.", {"lines": "empty"})
    vials = vials or {}
    bad_vials = {name: n for name, n in vials.items()
                 if not isinstance(n, int) or not 1 <= n <= MAX_VIALS_PER_LINE}
    if bad_vials:
        raise InvalidAction(f"Request 1 to {MAX_VIALS_PER_LINE} vials per line.", {"vials": bad_vials})

    results = evaluate_lines(lines, purpose)
    denied = {r.line: [reason.text for reason in r.reasons] for r in results if r.decision == DENY}
    if denied:
        raise InvalidAction(
            "These lines may not be used for your purpose and cannot be requested: "
            + ", ".join(sorted(denied)) + ".",
            {"lines": denied},
        )
    with transaction.atomic():
        request = DistributionRequest(
            requester=requester, organisation=organisation[:200], organisation_type=organisation_type,
            purpose_codes=sorted(purpose.codes), purpose_disease=purpose.disease or "",
            purpose_summary=purpose_summary, commercial=purpose.commercial,
            accepted_conditions=sorted(set(accepted_conditions)),
        )
        request._history_user = requester
        request.save()
        for line, result in zip(lines, results, strict=True):
            item = RequestedLine(
                request=request, line=line, vials=vials.get(line.name, 1), eligibility=result.decision,
                eligibility_reasons=[r.as_dict() for r in result.reasons],
                conditions=[c.as_dict() for c in result.conditions],
            )
            item._history_user = requester
            item.save()
        # No e-mail for a draft: the requester just made it and nobody else sees
        # it yet. Mail starts with submission.
        RequestEvent.objects.create(
            request=request, actor=requester, action="created", from_status="",
            to_status=RequestStatus.DRAFT, details={"lines": [line.name for line in lines]},
        )
    return request
