"""Creating a request: a draft for lines the requester may see, each judged against its
donor's consent at once (distribution.actions.requests moves it on from there)."""

import datetime
from collections.abc import Iterable, Mapping

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.models import DiseaseTerm
from core.roles import may_request
from distribution.actions import double_submits
from distribution.actions.effects import record_author
from distribution.eligibility import evaluate_lines
from distribution.models import (
    DistributionRequest,
    InvalidAction,
    NotAllowed,
    RequestedLine,
    RequestEvent,
    RequestStatus,
)
from donors.duo import DENY, Purpose, check_purpose
from lines.models import CellLine
from stock.availability import check_requested_lot
from stock.models import Lot

MAX_VIALS_PER_LINE = 10


def requester_defaults(user: User) -> dict[str, str]:
    """What a request states when the requester leaves it out: the organisation type
    and the institution of their profile (academic and none without a profile)."""
    profile = getattr(user, "profile", None)
    institution = profile.institution if profile else None
    return {
        "organisation_type": profile.organisation_type if profile else "academic",
        "organisation": institution.name if institution else "",
    }


def create_request(
    requester: User,
    lines: Iterable[CellLine],
    *,
    purpose_codes: Iterable[str],
    purpose_disease: str | None = None,
    commercial: bool = False,
    organisation_type: str | None = None,
    organisation: str = "",
    shipping_address: str = "",
    purpose_summary: str = "",
    vials: Mapping[str, int] | None = None,
    lots: Mapping[str, str] | None = None,
    accepted_conditions: Iterable[str] = (),
    at: datetime.datetime | None = None,
    idempotency_key: str = "",
) -> DistributionRequest:
    """A draft request for `lines` (CellLine objects the requester may see).

    Every line is judged against its donor's consent at once: a line the purpose
    may not use (DENY) is refused here, naming it and why. `vials` maps a line
    name to a number of vials (default 1); `lots` a line name to the code of the
    released lot wanted (default: the oldest released lot first), which must be a
    lot of that line with vials in stock. Raises NotAllowed or InvalidAction."""
    if not may_request(requester):
        raise NotAllowed("Only researchers and depositors may request lines.")
    defaults = requester_defaults(requester)
    profile_type = defaults["organisation_type"]
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
    organisation = organisation or defaults["organisation"]
    purpose = Purpose(frozenset(purpose_codes), purpose_disease or None, bool(commercial), organisation_type)
    try:
        known = set(DiseaseTerm.objects.filter(curie=purpose.disease).values_list("curie", flat=True))
        check_purpose(purpose, known_diseases=known)
    except ValueError as error:
        raise InvalidAction(str(error), getattr(error, "problems", {})) from error
    lines = list(lines)
    if not lines:
        raise InvalidAction("Choose at least one line.", {"lines": "empty"})
    vials = vials or {}
    bad_vials = {name: n for name, n in vials.items() if not isinstance(n, int) or not 1 <= n <= MAX_VIALS_PER_LINE}
    if bad_vials:
        raise InvalidAction(f"Request 1 to {MAX_VIALS_PER_LINE} vials per line.", {"vials": bad_vials})
    chosen_lots = _requested_lots(lines, lots or {})

    results = evaluate_lines(lines, purpose)
    denied = {r.line: [reason.text for reason in r.reasons] for r in results if r.decision == DENY}
    if denied:
        raise InvalidAction(
            "These lines may not be used for your purpose and cannot be requested: " + ", ".join(sorted(denied)) + ".",
            {"lines": denied},
        )
    with transaction.atomic():
        if made := double_submits.request_made_with(requester, idempotency_key):
            return made  # a double submit: the request this key made
        request = DistributionRequest(
            requester=requester,
            organisation=organisation.strip()[:200],
            shipping_address=shipping_address.strip()[:1000],
            organisation_type=organisation_type,
            purpose_codes=sorted(purpose.codes),
            purpose_disease=purpose.disease or "",
            purpose_summary=purpose_summary,
            commercial=purpose.commercial,
            accepted_conditions=sorted(set(accepted_conditions)),
        )
        record_author(request, requester)
        request.save()
        for line, result in zip(lines, results, strict=True):
            item = RequestedLine(
                request=request,
                line=line,
                vials=vials.get(line.name, 1),
                lot=chosen_lots.get(line.name),
                eligibility=result.decision,
                eligibility_reasons=[r.as_dict() for r in result.reasons],
                conditions=[c.as_dict() for c in result.conditions],
            )
            record_author(item, requester)
            item.save()
        # No e-mail for a draft: the requester just made it and nobody else sees
        # it yet. Mail starts with submission.
        RequestEvent.objects.create(
            request=request,
            actor=requester,
            action="created",
            from_status="",
            to_status=RequestStatus.DRAFT,
            details={"lines": [line.name for line in lines]},
            at=at or timezone.now(),
        )
        double_submits.remember_request(requester, idempotency_key, request)
    return request


def _requested_lots(lines: list[CellLine], codes: Mapping[str, str]) -> dict[str, Lot]:
    """line name → the Lot asked for; InvalidAction naming every line and lot at fault."""
    by_name = {line.name: line for line in lines}
    chosen: dict[str, Lot] = {}
    problems: dict[str, str] = {}
    for name, code in codes.items():
        code = (code or "").strip() if isinstance(code, str) else code
        if not code:
            continue  # no choice: the oldest released lot first
        line = by_name.get(name)
        if line is None:
            problems[name] = f"{name} is not a requested line."
            continue
        lot, problem = check_requested_lot(line, str(code))
        if lot is None:
            problems[name] = problem
        else:
            chosen[name] = lot
    if problems:
        raise InvalidAction(
            "Choose a released lot with vials in stock: " + " ".join(problems.values()), {"lots": problems}
        )
    return chosen
