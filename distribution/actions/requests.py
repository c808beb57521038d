"""A request's life: created as a draft, then moved by the steps of distribution/transitions.py.

Every step runs through `_apply`: check who (403), lock the row, check the state
and the hold (409), apply the step's change (400 for bad input), save, record the
RequestEvent (who, when, from which state, why) and publish the requester's
e-mail after commit. A backfill of past steps (the demo catalog) passes `at`,
when the step happened (default now), and `notify=False`: nobody is e-mailed
about the past.
"""

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from distribution.actions import double_submits
from distribution.actions import stock as stock_links
from distribution.actions.creation import MAX_VIALS_PER_LINE, create_request  # noqa: F401 (re-exported)
from distribution.actions.effects import publish_after_commit, record_author
from distribution.eligibility import evaluate_lines, purpose_of
from distribution.models import (
    DistributionRequest,
    Eligibility,
    IllegalTransition,
    InvalidAction,
    LineDecision,
    NotAllowed,
    RequestedLine,
    RequestEvent,
    RequestStatus,
    Shipment,
)
from distribution.returns import return_outstanding
from distribution.tasks import notify_request_event
from distribution.transitions import TRANSITIONS, WHOM, Transition, may_act
from donors.duo import DENY
from lines.models import CellLine


def _today(at: datetime.datetime | None) -> datetime.date:
    return timezone.localdate(at) if at else timezone.localdate()


# --- the one path of every step ---------------------------------------------------------


def _check_actor(request: DistributionRequest, by: User | None, transition: Transition) -> None:
    if not may_act(transition, request, by):
        raise NotAllowed(f"Only {WHOM[transition.who]} may {transition.verb} request {request.pk}.")


def _apply(
    request: DistributionRequest,
    by: User,
    transition: Transition,
    *,
    reason: str = "",
    change: Callable[[DistributionRequest], dict | None] | None = None,
    at: datetime.datetime | None = None,
    notify: bool = True,
    done: double_submits.Done | None = None,
) -> RequestEvent:
    """Check who, lock, check the state and the hold, apply `change(locked)`, save,
    record the event, and publish the e-mail after commit. A step `done(locked)` says
    was done already (a double submit) changes nothing and returns its event."""
    _check_actor(request, by, transition)
    verb = transition.verb
    with transaction.atomic():
        # The row lock serialises two curators (or a curator and the
        # withdrawal) acting on one request: the second sees the first's state.
        locked = DistributionRequest.objects.select_for_update().get(pk=request.pk)
        if done is not None and (earlier := done(locked)) is not None:
            return earlier
        if locked.status not in transition.sources:
            raise IllegalTransition(
                f"Cannot {verb} request {request.pk}: it is {locked.get_status_display().lower()}, and "
                "this is possible only when it is "
                f"{' or '.join(RequestStatus(s).label.lower() for s in transition.sources)}."
            )
        if locked.on_hold and transition.on_hold == "blocked":
            raise IllegalTransition(
                f"Cannot {verb} request {request.pk}: it is on hold ({locked.hold_reason}). "
                "A curator must release the hold first."
            )
        if not locked.on_hold and transition.on_hold == "required":
            raise IllegalTransition(f"Cannot {verb} request {request.pk}: it is not on hold.")
        from_status = locked.status
        extra = change(locked) if change else None
        if transition.target is not None:
            locked.status = transition.target
        record_author(locked, by, reason[:100] if reason else transition.event)
        locked.save()
        event = RequestEvent.objects.create(
            request=locked,
            actor=by,
            action=transition.event,
            from_status=from_status,
            to_status=locked.status,
            reason=reason,
            details=extra or {},
            at=at or timezone.now(),
        )
        if notify:
            publish_after_commit(notify_request_event, event.pk)
    request.refresh_from_db()
    return event


def _judge_items(request: DistributionRequest, items: Sequence[RequestedLine]) -> dict[str, list[str]]:
    """Judge the items again under the request's purpose; the DENY ones, with their reasons."""
    results = evaluate_lines([item.line for item in items], purpose_of(request))
    return {
        item.line.name: [r.text for r in result.reasons]
        for item, result in zip(items, results, strict=True)
        if result.decision == DENY
    }


# --- the steps ----------------------------------------------------------------------------


def submit(
    request: DistributionRequest,
    by: User,
    accepted_conditions: Iterable[str] | None = None,
    *,
    at: datetime.datetime | None = None,
    notify: bool = True,
) -> RequestEvent:
    """The requester sends the draft to the curators, accepting every condition.

    Eligibility is judged again: consent may have changed since the draft."""

    def change(req: DistributionRequest) -> None:
        items = list(req.items.select_related("line"))
        if not items:
            raise InvalidAction("Add at least one line before submitting.", {"lines": "no lines"})
        results = evaluate_lines([item.line for item in items], purpose_of(req))
        denied = {}
        for item, result in zip(items, results, strict=True):
            item.record_eligibility(result)
            if result.decision == DENY:
                denied[item.line.name] = [r.text for r in result.reasons]
        if denied:
            raise InvalidAction(
                "These lines may not be used for your purpose and cannot be requested: "
                + ", ".join(sorted(denied))
                + ". Remove them and submit again.",
                {"lines": denied},
            )
        accepted = set(req.accepted_conditions if accepted_conditions is None else accepted_conditions)
        missing = [c for c in req.required_conditions() if c not in accepted]
        if missing:
            raise InvalidAction(
                "Accept every condition of the donors' consent before submitting; not yet accepted: "
                + ", ".join(missing)
                + ".",
                {"accepted_conditions": missing},
            )
        req.accepted_conditions = sorted(accepted & set(req.required_conditions()))
        req.submitted_at = at or timezone.now()

    return _apply(request, by, TRANSITIONS["submit"], change=change, at=at, notify=notify)


def start_review(
    request: DistributionRequest,
    by: User,
    *,
    at: datetime.datetime | None = None,
    notify: bool = True,
) -> RequestEvent:
    def change(req: DistributionRequest) -> None:
        req.curator = by

    return _apply(request, by, TRANSITIONS["start-review"], change=change, at=at, notify=notify)


def decide_line(
    request: DistributionRequest,
    by: User,
    line: CellLine | str,
    decision: str,
    reason: str = "",
    *,
    at: datetime.datetime | None = None,
    notify: bool = True,
) -> RequestEvent:
    """A curator approves or rejects one requested line, with a reason.

    A rejection always needs a reason; so does approving a line the consent
    check left to a curator (ABSTAIN). Deciding a submitted request starts its review."""
    reason = (reason or "").strip()
    if decision not in (LineDecision.APPROVED, LineDecision.REJECTED):
        raise InvalidAction("A line decision is 'approved' or 'rejected'.", {"decision": decision})
    name = getattr(line, "name", line)

    def change(req: DistributionRequest) -> dict:
        item = req.items.select_related("line").filter(line__name=name).first()
        if item is None:
            raise InvalidAction(f"Line {name} is not in request {req.pk}.", {"line": name})
        if decision == LineDecision.REJECTED and not reason:
            raise InvalidAction(f"Give a reason for rejecting {name}.", {"reason": "required"})
        if decision == LineDecision.APPROVED:
            # Judged again now, as the request page shows it: consent may have changed.
            [result] = evaluate_lines([item.line], purpose_of(req))
            item.record_eligibility(result)
        if decision == LineDecision.APPROVED and item.eligibility == Eligibility.DENY:
            raise InvalidAction(
                f"{name} may not be used for this purpose (consent): it cannot be approved.",
                {"line": name},
            )
        if decision == LineDecision.APPROVED and item.eligibility == Eligibility.ABSTAIN and not reason:
            raise InvalidAction(
                f"{name} needs a curator's judgement on its consent: say why you approve it.",
                {"reason": "required"},
            )
        item.decision = decision
        item.decision_reason = reason
        item.decided_by = by
        item.decided_at = at or timezone.now()
        record_author(item, by)
        item.save()
        if req.curator_id is None:
            req.curator = by
        if req.status == RequestStatus.SUBMITTED:
            req.status = RequestStatus.UNDER_REVIEW
        return {"line": name, "decision": decision}

    transition = TRANSITIONS["reject-line" if decision == LineDecision.REJECTED else "approve-line"]
    done = double_submits.decided_already(str(name), decision, reason, transition.event)
    return _apply(request, by, transition, reason=reason, change=change, at=at, notify=notify, done=done)


def approve(
    request: DistributionRequest,
    by: User,
    reason: str = "",
    *,
    at: datetime.datetime | None = None,
    notify: bool = True,
) -> RequestEvent:
    """Approve the request: pending lines the consent allows are approved with it;
    lines left to a curator (ABSTAIN) must have been decided one by one."""

    def change(req: DistributionRequest) -> dict:
        items = list(req.items.select_related("line"))
        undecided = [
            i.line.name for i in items if i.decision == LineDecision.PENDING and i.eligibility != Eligibility.APPROVE
        ]
        if undecided:
            raise InvalidAction(
                "Decide these lines one by one first (their consent needs a curator's judgement): "
                + ", ".join(undecided)
                + ".",
                {"lines": undecided},
            )
        now = at or timezone.now()
        for item in items:
            if item.decision == LineDecision.PENDING:
                item.decision = LineDecision.APPROVED
                item.decided_by, item.decided_at = by, now
                item.decision_reason = "Consent allows the stated purpose."
                record_author(item, by)
                item.save()
        if not any(i.decision == LineDecision.APPROVED for i in items):
            raise InvalidAction("Every line is rejected: reject the request instead.", {"lines": "none approved"})
        req.curator, req.decided_at, req.decision_reason = by, now, reason
        return stock_links.reserve_for_request(req, by)

    return _apply(request, by, TRANSITIONS["approve"], reason=reason, change=change, at=at, notify=notify)


def reject(
    request: DistributionRequest,
    by: User,
    reason: str,
    *,
    at: datetime.datetime | None = None,
    notify: bool = True,
) -> RequestEvent:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidAction("Give the requester a reason for the rejection.", {"reason": "required"})
    transition = TRANSITIONS["reject"]
    _check_actor(request, by, transition)

    def change(req: DistributionRequest) -> None:
        req.curator, req.decided_at, req.decision_reason = by, at or timezone.now(), reason
        req.on_hold = False
        stock_links.release_reservations(req, by, reason)

    return _apply(request, by, transition, reason=reason, change=change, at=at, notify=notify)


def record_agreement(
    request: DistributionRequest,
    by: User,
    reference: str,
    executed_on: datetime.date | None,
    sent_on: datetime.date | None = None,
    *,
    at: datetime.datetime | None = None,
    notify: bool = True,
) -> RequestEvent:
    """The material transfer agreement is signed by both sides."""
    transition = TRANSITIONS["agreement"]
    reference = (reference or "").strip()
    problems = {}
    if not reference:
        problems["reference"] = "required"
    if not isinstance(executed_on, datetime.date):
        problems["executed_on"] = "required (a date)"
    elif executed_on > _today(at):
        problems["executed_on"] = "cannot be in the future"
    if problems:
        _check_actor(request, by, transition)
        raise InvalidAction("Give the agreement's reference and the date it was executed.", problems)

    def change(req: DistributionRequest) -> None:
        req.agreement_reference = reference
        req.agreement_executed_on = executed_on
        req.agreement_sent_on = sent_on or req.agreement_sent_on

    return _apply(
        request,
        by,
        transition,
        reason=f"Agreement {reference} executed on {executed_on:%Y-%m-%d}",
        change=change,
        at=at,
        notify=notify,
    )


def ship(
    request: DistributionRequest,
    by: User,
    shipments: Sequence[Mapping[str, Any]],
    *,
    at: datetime.datetime | None = None,
    notify: bool = True,
) -> RequestEvent:
    """Record what left the bank: per line the date, vials, batch and passage.

    `shipments` is a list of dicts: line (name or CellLine), shipped_on (date),
    vials, and optionally batch, passage, courier, courier_reference, vial_ids."""
    transition = TRANSITIONS["ship"]
    _check_actor(request, by, transition)
    if not shipments:
        raise InvalidAction("Record at least one shipment.", {"shipments": "empty"})
    today = _today(at)

    def change(req: DistributionRequest) -> dict:
        approved = {i.line.name: i for i in req.items.select_related("line") if i.decision == LineDecision.APPROVED}
        problems = {}
        rows = []
        for n, data in enumerate(shipments):
            name: Any = getattr(data.get("line"), "name", data.get("line"))
            shipped_on: Any = data.get("shipped_on")
            vials: Any = data.get("vials")
            if name not in approved:
                problems[f"shipments[{n}].line"] = f"{name} is not an approved line of this request"
            if not isinstance(shipped_on, datetime.date):
                problems[f"shipments[{n}].shipped_on"] = "required (a date)"
            elif shipped_on > today:
                problems[f"shipments[{n}].shipped_on"] = "cannot be in the future"
            elif req.agreement_executed_on and shipped_on < req.agreement_executed_on:
                problems[f"shipments[{n}].shipped_on"] = "is before the agreement was executed"
            if not isinstance(vials, int) or vials < 1:
                problems[f"shipments[{n}].vials"] = "at least 1"
            if problems:
                continue
            rows.append(
                Shipment(
                    request=req,
                    line=approved[name].line,
                    shipped_on=shipped_on,
                    vials=vials,
                    batch=data.get("batch") or "",
                    passage=data.get("passage"),
                    courier_reference=data.get("courier_reference") or "",
                    recorded_by=by,
                )
            )
        if problems:
            raise InvalidAction("Some shipments cannot be recorded.", problems)
        for row in rows:
            record_author(row, by)
            row.save()
        stock_links.ship_reserved(req, rows, shipments, by)
        return {"shipments": [{"line": r.line.name, "vials": r.vials, "batch": r.batch} for r in rows]}

    return _apply(request, by, transition, change=change, at=at, notify=notify)


def complete(
    request: DistributionRequest,
    by: User,
    reason: str = "",
    *,
    at: datetime.datetime | None = None,
    notify: bool = True,
) -> RequestEvent:
    """Receipt confirmed (by the requester) or the request closed (by a curator).
    Refused (409) while derived data owed under RTN is outstanding (distribution.returns)."""

    def change(req: DistributionRequest) -> None:
        outstanding = return_outstanding(req)
        if outstanding:
            raise IllegalTransition(f"Cannot complete request {req.pk}: {outstanding}")
        req.completed_on = _today(at)
        if by.pk == req.requester_id:
            # The requester's confirmation is the receipt date of what was shipped.
            for shipment in req.shipments.filter(received_on__isnull=True):
                shipment.received_on = req.completed_on
                record_author(shipment, by)
                shipment.save(update_fields=["received_on"])
            stock_links.confirm_receipt(req, by, on=req.completed_on)

    return _apply(request, by, TRANSITIONS["complete"], reason=reason, change=change, at=at, notify=notify)


def cancel(
    request: DistributionRequest,
    by: User,
    reason: str = "",
    *,
    at: datetime.datetime | None = None,
    notify: bool = True,
) -> RequestEvent:
    """The requester withdraws the request, or a curator closes it (with a reason)."""
    reason = (reason or "").strip()
    transition = TRANSITIONS["cancel"]
    _check_actor(request, by, transition)
    if by.pk != request.requester_id and not reason:
        raise InvalidAction("Give the requester a reason for cancelling.", {"reason": "required"})

    def change(req: DistributionRequest) -> None:
        req.on_hold = False
        stock_links.release_reservations(req, by, reason or "Cancelled by the requester.")

    return _apply(
        request,
        by,
        transition,
        reason=reason or "Cancelled by the requester.",
        change=change,
        at=at,
        notify=notify,
    )


def put_on_hold(
    request: DistributionRequest,
    by: User,
    reason: str,
    *,
    at: datetime.datetime | None = None,
    notify: bool = True,
) -> RequestEvent:
    transition = TRANSITIONS["hold"]
    reason = (reason or "").strip()
    if not reason:
        _check_actor(request, by, transition)
        raise InvalidAction("Say why the request is put on hold.", {"reason": "required"})

    def change(req: DistributionRequest) -> None:
        req.on_hold, req.hold_reason = True, reason

    return _apply(request, by, transition, reason=reason, change=change, at=at, notify=notify)


def release_hold(
    request: DistributionRequest,
    by: User,
    reason: str = "",
    *,
    at: datetime.datetime | None = None,
    notify: bool = True,
) -> RequestEvent:
    """Lift a hold. Lines that may no longer be distributed must be rejected first."""

    def change(req: DistributionRequest) -> None:
        if req.status != RequestStatus.DRAFT:
            # Submitting judges every line again, so a draft needs no check here.
            items = [i for i in req.items.select_related("line") if i.decision != LineDecision.REJECTED]
            blocked = list(_judge_items(req, items))
            if blocked:
                raise InvalidAction(
                    "These lines may no longer be distributed: reject them (or the request) before "
                    "releasing the hold: " + ", ".join(blocked) + ".",
                    {"lines": blocked},
                )
        req.on_hold = False

    return _apply(request, by, TRANSITIONS["release-hold"], reason=reason, change=change, at=at, notify=notify)
