"""The request state machine as one table: from which states, by whom, to which state.

`distribution.actions.requests` enforces it (a refusal is a 403 for the wrong
person, a 409 for the wrong state or a hold), the API mounts one endpoint per
row, and the request page offers exactly the buttons `offered()` returns, so the
page never shows a step the workflow would refuse for the state or the person.

A hold is a flag, not a state: `on_hold` says whether a row is refused while the
request is on hold ("blocked"), works either way ("allowed"), or needs the hold
("required", releasing it).
"""

from dataclasses import dataclass
from typing import Any, Literal

from core.roles import is_curator
from distribution.models import OPEN_STATUSES, DistributionRequest, RequestStatus

Who = Literal["requester", "curator", "either"]
HoldPolicy = Literal["blocked", "allowed", "required"]

REVIEW = (RequestStatus.SUBMITTED, RequestStatus.UNDER_REVIEW)
BEFORE_SHIPMENT = (*REVIEW, RequestStatus.APPROVED, RequestStatus.AGREEMENT_EXECUTED)


@dataclass(frozen=True)
class Transition:
    name: str  # the slug of the page action and of the API endpoint
    event: str  # RequestEvent.action
    verb: str  # "Cannot <verb> request 12: …"
    who: Who
    sources: tuple[str, ...]
    target: str | None  # None: the status stays
    on_hold: HoldPolicy = "blocked"


TRANSITIONS = {
    t.name: t
    for t in (
        Transition(
            "submit",
            "submitted",
            "submit",
            "requester",
            (RequestStatus.DRAFT,),
            RequestStatus.SUBMITTED,
        ),
        Transition(
            "start-review",
            "review_started",
            "review",
            "curator",
            (RequestStatus.SUBMITTED,),
            RequestStatus.UNDER_REVIEW,
        ),
        # Deciding a line of a submitted request starts its review (the action moves it).
        Transition("approve-line", "line_approved", "decide lines of", "curator", REVIEW, None),
        # A line can be taken out of an approved request (or one on hold) until it
        # ships: that is how a curator clears a line whose consent was withdrawn.
        Transition(
            "reject-line",
            "line_rejected",
            "decide lines of",
            "curator",
            BEFORE_SHIPMENT,
            None,
            on_hold="allowed",
        ),
        Transition("approve", "approved", "approve", "curator", REVIEW, RequestStatus.APPROVED),
        Transition(
            "reject",
            "rejected",
            "reject",
            "curator",
            BEFORE_SHIPMENT,
            RequestStatus.REJECTED,
            on_hold="allowed",
        ),
        Transition(
            "agreement",
            "agreement_executed",
            "record the agreement of",
            "curator",
            (RequestStatus.APPROVED,),
            RequestStatus.AGREEMENT_EXECUTED,
        ),
        Transition(
            "ship",
            "shipped",
            "ship",
            "curator",
            (RequestStatus.AGREEMENT_EXECUTED,),
            RequestStatus.SHIPPED,
        ),
        Transition(
            "complete",
            "completed",
            "complete",
            "either",
            (RequestStatus.SHIPPED,),
            RequestStatus.COMPLETED,
        ),
        Transition(
            "cancel",
            "cancelled",
            "cancel",
            "either",
            OPEN_STATUSES,
            RequestStatus.CANCELLED,
            on_hold="allowed",
        ),
        Transition("hold", "put_on_hold", "put on hold", "curator", OPEN_STATUSES, None),
        Transition(
            "release-hold",
            "hold_released",
            "release the hold on",
            "curator",
            OPEN_STATUSES,
            None,
            on_hold="required",
        ),
    )
}

WHOM = {
    "requester": "the requester",
    "curator": "a curator",
    "either": "the requester or a curator",
}


def may_act(transition: Transition, request: DistributionRequest, user: Any) -> bool:
    """Whether `user` is the person the transition is for (the state aside)."""
    requester = user is not None and user.pk == request.requester_id
    curator = is_curator(user)
    return {"requester": requester, "curator": curator, "either": requester or curator}[transition.who]


def applies(transition: Transition, request: DistributionRequest) -> bool:
    """Whether the request's state (and hold) allows the transition."""
    if request.status not in transition.sources:
        return False
    if transition.on_hold == "blocked":
        return not request.on_hold
    if transition.on_hold == "required":
        return request.on_hold
    return True


def offered(request: DistributionRequest, user: Any) -> set[str]:
    """The names of the transitions `user` may take on `request` now: the page's buttons."""
    return {t.name for t in TRANSITIONS.values() if may_act(t, request, user) and applies(t, request)}
