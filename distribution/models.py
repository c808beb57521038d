"""Requests for lines, their agreements (MTA) and shipments.

A request moves draft → submitted → under_review → approved (awaiting agreement)
→ agreement_executed → shipped → completed; it may be rejected or cancelled at
any point before shipment, and put on hold (a flag, not a state) when a line's
consent or QC is withdrawn. The moves are actions (distribution/actions/requests.py)
over the table in distribution/transitions.py; the models keep the fields, the
constraints and the one-object rules.
"""

from django.conf import settings
from django.db import models
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
    organisation = models.CharField(max_length=200, help_text="The requesting organisation, as it signs the MTA.")
    shipping_address = models.TextField(blank=True, max_length=1000, help_text="Where the vials go.")
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
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decided_requests",
    )
    decision_reason = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    # DUO RTN (distribution/returns.py): when derived data came back, or why a curator waived it.
    derived_data_returned_at = models.DateTimeField(null=True, blank=True)
    derived_data_reference = models.CharField(max_length=200, blank=True)
    derived_data_waiver = models.TextField(blank=True)
    derived_data_waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = DistributionRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RequestStatus.values), name="request_status_valid"),
            models.CheckConstraint(
                condition=Q(organisation_type__in=OrganisationType.values),
                name="request_organisation_type_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=RequestStatus.REJECTED) | ~Q(decision_reason=""),
                name="request_rejection_needs_reason",
            ),
            models.CheckConstraint(condition=Q(on_hold=False) | ~Q(hold_reason=""), name="request_hold_needs_reason"),
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self):
        return f"Request {self.pk} by {self.requester} ({self.status})"

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def required_conditions(self):
        """DUO codes of every condition on a line still in the request, sorted."""
        codes = set()
        for item in self.items.all():
            if item.decision != LineDecision.REJECTED:
                codes.update(c["code"] for c in item.conditions)
        return sorted(codes)


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
    lot = models.ForeignKey(
        "stock.Lot",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requested_items",
        help_text="The released lot the requester asked for; empty: the oldest released lot first.",
    )
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
    courier = models.CharField(max_length=60, blank=True)
    courier_reference = models.CharField(max_length=100, blank=True)
    received_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-shipped_on"]
        constraints = [models.CheckConstraint(condition=Q(vials__gte=1), name="shipment_at_least_one_vial")]

    def __str__(self):
        return f"{self.vials} vial(s) of {self.line} on {self.shipped_on}"


class ReservedVial(models.Model):
    """A vial of the bank's stock set aside for a requested line (stock/ owns the vial;
    this row says for whom). Made when the request is approved, it records the
    shipment that took the vial and the recipient's receipt; cancelling, rejecting or
    a recall ends it (`released_at`). One open reservation per vial."""

    item = models.ForeignKey(RequestedLine, on_delete=models.PROTECT, related_name="reserved_vials")
    vial = models.ForeignKey("stock.Vial", on_delete=models.PROTECT, related_name="reservations")
    reserved_at = models.DateTimeField(default=timezone.now)
    shipment = models.ForeignKey(
        Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="reserved_vials"
    )
    received_on = models.DateField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["item", "id"]
        constraints = [
            # The second guard behind the conditional update in stock.actions.claim_vials.
            models.UniqueConstraint(fields=["vial"], condition=Q(released_at__isnull=True), name="vial_reserved_once"),
        ]

    def __str__(self):
        return f"{self.vial_id} for {self.item}"


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
    "return_waived": "Return of derived data waived",
}
