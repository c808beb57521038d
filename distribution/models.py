"""Requests for lines, their agreements (MTA) and shipments.

A request moves draft → submitted → under_review → approved (awaiting agreement)
→ agreement_executed → shipped → completed; it may be rejected or cancelled at
any point before shipment, and put on hold (a flag, not a state) when a line's
consent or QC is withdrawn. Every move is a method on DistributionRequest that
checks who may make it and from which state, locks the row, records a
RequestEvent (who, when, why) and queues the requester's e-mail after commit.
"""

import datetime
from functools import partial

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.models import OrganisationType
from core.roles import is_curator


class WorkflowError(Exception):
    """A refused request action; the API maps `status_code` to the HTTP answer."""

    status_code = 400

    def __init__(self, message, problems=None):
        super().__init__(message)
        self.message = message
        self.problems = problems or {}


class IllegalTransition(WorkflowError):
    """The action does not apply to the request's current state (HTTP 409)."""

    status_code = 409


class NotAllowed(WorkflowError):
    """The user may not take this action on this request (HTTP 403)."""

    status_code = 403


class InvalidAction(WorkflowError):
    """The action applies but its input is wrong (HTTP 400), e.g. a missing reason."""

    status_code = 400


class RequestStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    UNDER_REVIEW = "under_review", "Under review"
    APPROVED = "approved", "Approved (awaiting agreement)"
    AGREEMENT_EXECUTED = "agreement_executed", "Agreement executed"
    SHIPPED = "shipped", "Shipped"
    COMPLETED = "completed", "Completed"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (
    RequestStatus.DRAFT,
    RequestStatus.SUBMITTED,
    RequestStatus.UNDER_REVIEW,
    RequestStatus.APPROVED,
    RequestStatus.AGREEMENT_EXECUTED,
)


class DistributionRequestQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A requester sees their own requests; curators see all."""
        if is_curator(user):
            return self
        if not user or not user.is_authenticated:
            return self.none()
        return self.filter(requester=user)


class DistributionRequest(models.Model):
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="distribution_requests"
    )
    organisation = models.CharField(max_length=200)
    organisation_type = models.CharField(max_length=20, choices=OrganisationType.choices)
    lines = models.ManyToManyField("lines.CellLine", through="RequestedLine", related_name="requests")
    purpose_codes = models.JSONField(default=list, blank=True, help_text="DUO CURIEs describing the research purpose.")
    purpose_disease = models.CharField(max_length=20, blank=True, help_text="MONDO id, for a disease-specific purpose.")
    purpose_summary = models.TextField(blank=True)
    commercial = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=RequestStatus.choices, default=RequestStatus.DRAFT)
    on_hold = models.BooleanField(default=False)
    hold_reason = models.TextField(blank=True)
    accepted_conditions = models.JSONField(default=list, blank=True)
    agreement_reference = models.CharField("MTA reference", max_length=100, blank=True)
    agreement_sent_on = models.DateField(null=True, blank=True)
    agreement_executed_on = models.DateField(null=True, blank=True)
    curator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="decided_requests"
    )
    decision_reason = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = DistributionRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RequestStatus.values), name="request_status_valid"),
            models.CheckConstraint(
                condition=Q(organisation_type__in=OrganisationType.values), name="request_organisation_type_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=RequestStatus.REJECTED) | ~Q(decision_reason=""),
                name="request_rejection_needs_reason",
            ),
            models.CheckConstraint(
                condition=Q(on_hold=False) | ~Q(hold_reason=""), name="request_hold_needs_reason"
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self):
        return f"Request {self.pk} by {self.requester} ({self.status})"

    # --- the state machine ----------------------------------------------------

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def purpose(self):
        from distribution.eligibility import Purpose

        return Purpose(
            frozenset(self.purpose_codes), self.purpose_disease or None, self.commercial, self.organisation_type
        )

    def required_conditions(self):
        """DUO codes of every condition on a line still in the request, sorted."""
        codes = set()
        for item in self.items.all():
            if item.decision != LineDecision.REJECTED:
                codes.update(c["code"] for c in item.conditions)
        return sorted(codes)

    def _check_actor(self, by, who, verb):
        requester = by is not None and by.pk == self.requester_id
        curator = is_curator(by)
        allowed = {"requester": requester, "curator": curator, "either": requester or curator}[who]
        if not allowed:
            whom = {"requester": "the requester", "curator": "a curator",
                    "either": "the requester or a curator"}[who]
            raise NotAllowed(f"Only {whom} may {verb} request {self.pk}.")

    def _transition(self, by, action, verb, *, who, allowed_from, to=None, reason="",
                    allow_on_hold=False, change=None, details=None):
        """The single path of every change: check who, lock, check the state, apply
        `change(locked)`, save, record the event, and queue the e-mail after commit."""
        self._check_actor(by, who, verb)
        with transaction.atomic():
            # The row lock serialises two curators (or a curator and the
            # withdrawal) acting on one request: the second sees the first's state.
            locked = DistributionRequest.objects.select_for_update().get(pk=self.pk)
            if locked.status not in allowed_from:
                raise IllegalTransition(
                    f"Cannot {verb} request {self.pk}: it is {locked.get_status_display().lower()}, and "
                    "this is possible only when it is "
                    f"{' or '.join(RequestStatus(s).label.lower() for s in allowed_from)}."
                )
            if locked.on_hold and not allow_on_hold:
                raise IllegalTransition(
                    f"Cannot {verb} request {self.pk}: it is on hold ({locked.hold_reason}). "
                    "A curator must release the hold first."
                )
            from_status = locked.status
            extra = change(locked) if change else None
            if to is not None:
                locked.status = to
            locked._history_user = by
            locked._change_reason = reason[:100] if reason else action
            locked.save()
            event = RequestEvent.objects.create(
                request=locked, actor=by, action=action, from_status=from_status,
                to_status=locked.status, reason=reason, details={**(details or {}), **(extra or {})},
            )
            queue_request_notification(event)
        self.refresh_from_db()
        return event

    def submit(self, by, accepted_conditions=None):
        """The requester sends the draft to the curators, accepting every condition.

        Eligibility is judged again: consent may have changed since the draft."""
        from distribution.eligibility import DENY, evaluate_lines

        def change(req):
            items = list(req.items.select_related("line"))
            if not items:
                raise InvalidAction("Add at least one line before submitting.", {"lines": "no lines"})
            results = evaluate_lines([item.line for item in items], req.purpose())
            denied = {}
            for item, result in zip(items, results, strict=True):
                item.record_eligibility(result)
                if result.decision == DENY:
                    denied[item.line.name] = [r.text for r in result.reasons]
            if denied:
                raise InvalidAction(
                    "These lines may not be used for your purpose and cannot be requested: "
                    + ", ".join(sorted(denied)) + ". Remove them and submit again.",
                    {"lines": denied},
                )
            accepted = set(req.accepted_conditions if accepted_conditions is None else accepted_conditions)
            missing = [c for c in req.required_conditions() if c not in accepted]
            if missing:
                raise InvalidAction(
                    "Accept every condition of the donors' consent before submitting; not yet accepted: "
                    + ", ".join(missing) + ".",
                    {"accepted_conditions": missing},
                )
            req.accepted_conditions = sorted(accepted & set(req.required_conditions()))
            req.submitted_at = timezone.now()

        return self._transition(by, "submitted", "submit", who="requester",
                                allowed_from=[RequestStatus.DRAFT], to=RequestStatus.SUBMITTED, change=change)

    def start_review(self, by):
        def change(req):
            req.curator = by

        return self._transition(by, "review_started", "review", who="curator",
                                allowed_from=[RequestStatus.SUBMITTED], to=RequestStatus.UNDER_REVIEW,
                                change=change)

    def decide_line(self, by, line, decision, reason=""):
        """A curator approves or rejects one requested line, with a reason.

        A rejection always needs a reason; so does approving a line the consent
        check left to a curator (ABSTAIN). Deciding a submitted request starts its review."""
        reason = (reason or "").strip()
        if decision not in (LineDecision.APPROVED, LineDecision.REJECTED):
            raise InvalidAction("A line decision is 'approved' or 'rejected'.", {"decision": decision})
        name = getattr(line, "name", line)

        def change(req):
            item = req.items.select_related("line").filter(line__name=name).first()
            if item is None:
                raise InvalidAction(f"Line {name} is not in request {req.pk}.", {"line": name})
            if decision == LineDecision.REJECTED and not reason:
                raise InvalidAction(f"Give a reason for rejecting {name}.", {"reason": "required"})
            if decision == LineDecision.APPROVED and item.eligibility == Eligibility.DENY:
                raise InvalidAction(f"{name} may not be used for this purpose (consent): it cannot be approved.",
                                    {"line": name})
            if decision == LineDecision.APPROVED and item.eligibility == Eligibility.ABSTAIN and not reason:
                raise InvalidAction(
                    f"{name} needs a curator's judgement on its consent: say why you approve it.",
                    {"reason": "required"},
                )
            if decision == LineDecision.APPROVED and req.status not in review_states:
                raise IllegalTransition(
                    f"Cannot approve lines of request {req.pk}: it is {req.get_status_display().lower()}; "
                    "lines are approved during review."
                )
            item.decision = decision
            item.decision_reason = reason
            item.decided_by = by
            item.decided_at = timezone.now()
            item._history_user = by
            item.save()
            if req.curator_id is None:
                req.curator = by
            if req.status == RequestStatus.SUBMITTED:
                req.status = RequestStatus.UNDER_REVIEW
            return {"line": name, "decision": decision}

        review_states = [RequestStatus.SUBMITTED, RequestStatus.UNDER_REVIEW]
        rejecting = decision == LineDecision.REJECTED
        # A line can be taken out of an approved request (or one on hold) until it
        # ships: that is how a curator clears a line whose consent was withdrawn.
        allowed = [*review_states, RequestStatus.APPROVED, RequestStatus.AGREEMENT_EXECUTED] if rejecting \
            else review_states
        action = "line_rejected" if rejecting else "line_approved"
        return self._transition(by, action, "decide lines of", who="curator", allowed_from=allowed,
                                reason=reason, allow_on_hold=rejecting, change=change)

    def approve(self, by, reason=""):
        """Approve the request: pending lines the consent allows are approved with it;
        lines left to a curator (ABSTAIN) must have been decided one by one."""

        def change(req):
            items = list(req.items.select_related("line"))
            undecided = [i.line.name for i in items
                         if i.decision == LineDecision.PENDING and i.eligibility != Eligibility.APPROVE]
            if undecided:
                raise InvalidAction(
                    "Decide these lines one by one first (their consent needs a curator's judgement): "
                    + ", ".join(undecided) + ".",
                    {"lines": undecided},
                )
            now = timezone.now()
            for item in items:
                if item.decision == LineDecision.PENDING:
                    item.decision = LineDecision.APPROVED
                    item.decided_by, item.decided_at = by, now
                    item.decision_reason = "Consent allows the stated purpose."
                    item._history_user = by
                    item.save()
            if not any(i.decision == LineDecision.APPROVED for i in items):
                raise InvalidAction("Every line is rejected: reject the request instead.", {"lines": "none approved"})
            req.curator, req.decided_at, req.decision_reason = by, now, reason

        return self._transition(by, "approved", "approve", who="curator",
                                allowed_from=[RequestStatus.SUBMITTED, RequestStatus.UNDER_REVIEW],
                                to=RequestStatus.APPROVED, reason=reason, change=change)

    def reject(self, by, reason):
        reason = (reason or "").strip()
        if not reason:
            raise InvalidAction("Give the requester a reason for the rejection.", {"reason": "required"})
        self._check_actor(by, "curator", "reject")

        def change(req):
            req.curator, req.decided_at, req.decision_reason = by, timezone.now(), reason
            req.on_hold = False

        return self._transition(by, "rejected", "reject", who="curator",
                                allowed_from=[RequestStatus.SUBMITTED, RequestStatus.UNDER_REVIEW,
                                              RequestStatus.APPROVED, RequestStatus.AGREEMENT_EXECUTED],
                                to=RequestStatus.REJECTED, reason=reason, allow_on_hold=True, change=change)

    def record_agreement(self, by, reference, executed_on, sent_on=None):
        """The material transfer agreement is signed by both sides."""
        reference = (reference or "").strip()
        problems = {}
        if not reference:
            problems["reference"] = "required"
        if not isinstance(executed_on, datetime.date):
            problems["executed_on"] = "required (a date)"
        elif executed_on > timezone.localdate():
            problems["executed_on"] = "cannot be in the future"
        if problems:
            self._check_actor(by, "curator", "record the agreement of")
            raise InvalidAction("Give the agreement's reference and the date it was executed.", problems)

        def change(req):
            req.agreement_reference = reference
            req.agreement_executed_on = executed_on
            req.agreement_sent_on = sent_on or req.agreement_sent_on

        return self._transition(by, "agreement_executed", "record the agreement of", who="curator",
                                allowed_from=[RequestStatus.APPROVED], to=RequestStatus.AGREEMENT_EXECUTED,
                                reason=f"Agreement {reference} executed on {executed_on:%Y-%m-%d}",
                                change=change)

    def ship(self, by, shipments):
        """Record what left the bank: per line the date, vials, batch and passage.

        `shipments` is a list of dicts: line (name or CellLine), shipped_on (date),
        vials, and optionally batch, passage, courier_reference."""
        self._check_actor(by, "curator", "ship")
        if not shipments:
            raise InvalidAction("Record at least one shipment.", {"shipments": "empty"})

        def change(req):
            approved = {i.line.name: i for i in req.items.select_related("line")
                        if i.decision == LineDecision.APPROVED}
            problems = {}
            rows = []
            for n, data in enumerate(shipments):
                name = getattr(data.get("line"), "name", data.get("line"))
                shipped_on = data.get("shipped_on")
                vials = data.get("vials")
                if name not in approved:
                    problems[f"shipments[{n}].line"] = f"{name} is not an approved line of this request"
                if not isinstance(shipped_on, datetime.date):
                    problems[f"shipments[{n}].shipped_on"] = "required (a date)"
                elif shipped_on > timezone.localdate():
                    problems[f"shipments[{n}].shipped_on"] = "cannot be in the future"
                elif req.agreement_executed_on and shipped_on < req.agreement_executed_on:
                    problems[f"shipments[{n}].shipped_on"] = "is before the agreement was executed"
                if not isinstance(vials, int) or vials < 1:
                    problems[f"shipments[{n}].vials"] = "at least 1"
                if problems:
                    continue
                rows.append(Shipment(
                    request=req, line=approved[name].line, shipped_on=shipped_on, vials=vials,
                    batch=data.get("batch") or "", passage=data.get("passage"),
                    courier_reference=data.get("courier_reference") or "", recorded_by=by,
                ))
            if problems:
                raise InvalidAction("Some shipments cannot be recorded.", problems)
            for row in rows:
                row._history_user = by
                row.save()
            return {"shipments": [{"line": r.line.name, "vials": r.vials, "batch": r.batch} for r in rows]}

        return self._transition(by, "shipped", "ship", who="curator",
                                allowed_from=[RequestStatus.AGREEMENT_EXECUTED], to=RequestStatus.SHIPPED,
                                change=change)

    def complete(self, by, reason=""):
        """Receipt confirmed (by the requester) or the request closed (by a curator)."""

        def change(req):
            req.completed_on = timezone.localdate()
            if by.pk == req.requester_id:
                # The requester's confirmation is the receipt date of what was shipped.
                for shipment in req.shipments.filter(received_on__isnull=True):
                    shipment.received_on = req.completed_on
                    shipment._history_user = by
                    shipment.save(update_fields=["received_on"])

        return self._transition(by, "completed", "complete", who="either",
                                allowed_from=[RequestStatus.SHIPPED], to=RequestStatus.COMPLETED,
                                reason=reason, change=change)

    def cancel(self, by, reason=""):
        """The requester withdraws the request, or a curator closes it (with a reason)."""
        reason = (reason or "").strip()
        self._check_actor(by, "either", "cancel")
        if by.pk != self.requester_id and not reason:
            raise InvalidAction("Give the requester a reason for cancelling.", {"reason": "required"})

        def change(req):
            req.on_hold = False

        return self._transition(by, "cancelled", "cancel", who="either", allowed_from=list(OPEN_STATUSES),
                                to=RequestStatus.CANCELLED, reason=reason or "Cancelled by the requester.",
                                allow_on_hold=True, change=change)

    def put_on_hold(self, by, reason):
        reason = (reason or "").strip()
        if not reason:
            self._check_actor(by, "curator", "put on hold")
            raise InvalidAction("Say why the request is put on hold.", {"reason": "required"})

        def change(req):
            req.on_hold, req.hold_reason = True, reason

        return self._transition(by, "put_on_hold", "put on hold", who="curator",
                                allowed_from=list(OPEN_STATUSES), reason=reason, change=change)

    def release_hold(self, by, reason=""):
        """Lift a hold. Lines that may no longer be distributed must be rejected first."""
        from distribution.eligibility import DENY, evaluate_lines

        def change(req):
            if not req.on_hold:
                raise IllegalTransition(f"Cannot release the hold on request {req.pk}: it is not on hold.")
            if req.status == RequestStatus.DRAFT:
                # Submitting judges every line again, so a draft needs no check here.
                req.on_hold = False
                return None
            items = [i for i in req.items.select_related("line") if i.decision != LineDecision.REJECTED]
            results = evaluate_lines([i.line for i in items], req.purpose())
            blocked = [i.line.name for i, r in zip(items, results, strict=True) if r.decision == DENY]
            if blocked:
                raise InvalidAction(
                    "These lines may no longer be distributed: reject them (or the request) before "
                    "releasing the hold: " + ", ".join(blocked) + ".",
                    {"lines": blocked},
                )
            req.on_hold = False

        return self._transition(by, "hold_released", "release the hold on", who="curator",
                                allowed_from=list(OPEN_STATUSES), reason=reason, allow_on_hold=True,
                                change=change)


class LineDecision(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Eligibility(models.TextChoices):
    APPROVE = "APPROVE", "Approve"
    DENY = "DENY", "Deny"
    ABSTAIN = "ABSTAIN", "Abstain: a curator decides"


class RequestedLine(models.Model):
    request = models.ForeignKey(DistributionRequest, on_delete=models.CASCADE, related_name="items")
    line = models.ForeignKey("lines.CellLine", on_delete=models.PROTECT, related_name="requested_items")
    vials = models.PositiveSmallIntegerField(default=1)
    eligibility = models.CharField(max_length=8, choices=Eligibility.choices, blank=True)
    eligibility_reasons = models.JSONField(default=list, blank=True)
    conditions = models.JSONField(default=list, blank=True)
    decision = models.CharField(max_length=10, choices=LineDecision.choices, default=LineDecision.PENDING)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "line"], name="requested_line_once_per_request"),
            models.CheckConstraint(condition=Q(vials__gte=1), name="requested_line_at_least_one_vial"),
            models.CheckConstraint(
                condition=~Q(decision=LineDecision.REJECTED) | ~Q(decision_reason=""),
                name="requested_line_rejection_needs_reason",
            ),
        ]

    def __str__(self):
        return f"{self.line} in request {self.request_id}"

    def record_eligibility(self, result):
        """Store an eligibility.Eligibility result on this row (saved)."""
        self.eligibility = result.decision
        self.eligibility_reasons = [r.as_dict() for r in result.reasons]
        self.conditions = [c.as_dict() for c in result.conditions]
        self.save(update_fields=["eligibility", "eligibility_reasons", "conditions"])


class Shipment(models.Model):
    request = models.ForeignKey(DistributionRequest, on_delete=models.PROTECT, related_name="shipments")
    line = models.ForeignKey("lines.CellLine", on_delete=models.PROTECT, related_name="shipments")
    shipped_on = models.DateField()
    vials = models.PositiveSmallIntegerField()
    batch = models.CharField(max_length=60, blank=True)
    passage = models.PositiveSmallIntegerField(null=True, blank=True)
    courier_reference = models.CharField(max_length=100, blank=True)
    received_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-shipped_on"]
        constraints = [models.CheckConstraint(condition=Q(vials__gte=1), name="shipment_at_least_one_vial")]

    def __str__(self):
        return f"{self.vials} vial(s) of {self.line} on {self.shipped_on}"


class RequestEvent(models.Model):
    """One step of a request's life: who did what, when, from which state, and why.

    simple_history keeps every field change; this log says why, in the words the
    requester reads in their e-mail and on the request page."""

    request = models.ForeignKey(DistributionRequest, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20, choices=RequestStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=RequestStatus.choices)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["request", "at"])]

    def __str__(self):
        return f"{self.action} on request {self.request_id} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def summary(self):
        return EVENT_SUMMARIES.get(self.action, self.action.replace("_", " ").capitalize())


EVENT_SUMMARIES = {
    "created": "Request created (draft)",
    "submitted": "Submitted to the curators",
    "review_started": "Review started",
    "line_approved": "Line approved",
    "line_rejected": "Line rejected",
    "approved": "Approved: awaiting the material transfer agreement",
    "rejected": "Rejected",
    "agreement_executed": "Material transfer agreement executed",
    "shipped": "Shipped",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "put_on_hold": "Put on hold",
    "hold_released": "Hold released",
}


def queue_request_notification(event):
    """E-mail the requester about `event` once the surrounding transaction commits."""
    from distribution.tasks import notify_request_event

    transaction.on_commit(partial(notify_request_event.delay, event.pk))
