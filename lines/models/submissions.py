"""Submission protocol versions and the submissions judged by them."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from core.roles import depositing_institution, is_curator


class ProtocolVersion(models.Model):
    """A version of the PRISM submission protocol: its JSON Schema and rule thresholds.
    A submission is judged by the version it names; changing a rule means a new version."""

    number = models.PositiveSmallIntegerField(unique=True)
    identifier = models.CharField(max_length=60, unique=True, help_text="e.g. prism-line-submission/1")
    schema = models.JSONField(default=dict)
    settings = models.JSONField(default=dict, blank=True, help_text="Rule thresholds of this version.")
    published_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return self.identifier


class SubmissionStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    VALIDATING = "validating", "Validating"
    VALID = "valid", "Valid"
    INVALID = "invalid", "Invalid"
    # A curator approved it and a worker is writing its lines (lines.submissions.approval.run_approval).
    APPROVING = "approving", "Approving"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class SubmissionFormat(models.TextChoices):
    JSON = "json", "JSON"
    CSV = "csv", "CSV set (zip)"
    XLSX = "xlsx", "XLSX workbook"


def _count(findings, severity):
    """Findings of a severity; a capped report's summary finding counts the ones it
    stands for (`omitted`, lines.submissions.rules.findings.cap_per_rule)."""
    return sum(f.get("omitted") or 1 for f in findings if f.get("severity") == severity)


class SubmissionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Depositors see their institution's submissions; curators see all; nobody else any
        (a researcher attached to an institution included)."""
        if is_curator(user):
            return self
        institution = depositing_institution(user)
        if institution is None:
            return self.none()
        return self.filter(institution=institution)


class Submission(models.Model):
    depositor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions")
    institution = models.ForeignKey("prism.Institution", on_delete=models.PROTECT, related_name="submissions")
    protocol_version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="submissions")
    document = models.FileField(upload_to="submissions/%Y/%m/")
    format = models.CharField(max_length=5, choices=SubmissionFormat.choices, default=SubmissionFormat.JSON)
    original_filename = models.CharField(max_length=255, blank=True)
    document_sha256 = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="Digest of the document's content (format-independent): approval recognises a document "
        "that was approved already.",
    )
    status = models.CharField(max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.RECEIVED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    findings = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    validation_started_at = models.DateTimeField(null=True, blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decided_submissions",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    approval_started_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a worker last took this submission's approval; empty while it waits in the queue.",
    )
    approval_attempts = models.PositiveSmallIntegerField(default=0)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=SubmissionStatus.values), name="submission_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=SubmissionStatus.REJECTED) | ~Q(decision_reason=""),
                name="submission_rejection_needs_reason",
            ),
            models.CheckConstraint(
                condition=Q(progress_done__lte=models.F("progress_total")) | Q(progress_total=0),
                name="submission_progress_within_total",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "updated_at"]),
            models.Index(fields=["institution", "status"]),
        ]

    def __str__(self):
        return f"Submission {self.pk} ({self.status})"

    # Statuses a validation run may claim: fresh ones, and (after the stale
    # time-out) ones whose worker died mid-run. A decided submission is never revalidated.
    CLAIMABLE = (SubmissionStatus.RECEIVED, SubmissionStatus.VALIDATING)

    @property
    def is_open(self):
        """Still waiting for validation or for a curator's decision."""
        return self.status in (
            SubmissionStatus.RECEIVED,
            SubmissionStatus.VALIDATING,
            SubmissionStatus.VALID,
        )

    @property
    def is_decided(self):
        return self.status in (SubmissionStatus.APPROVED, SubmissionStatus.REJECTED)

    @property
    def progress_percent(self):
        if not self.progress_total:
            return 100 if self.validated_at else 0
        return round(100 * self.progress_done / self.progress_total)

    def claim_for_validation(self, *, stale_before=None):
        """Take this submission for a validation run; False when another run has it.

        A conditional UPDATE, not read-then-write: two deliveries of the same task
        (a redelivered message, a beat re-queue) race here, and only one row count
        comes back 1. A `validating` row is claimable only once its run has gone
        quiet past `stale_before` (its worker is presumed dead)."""
        now = timezone.now()
        stale_before = stale_before or now - settings.SUBMISSION_STALE_AFTER
        claimable = Q(status=SubmissionStatus.RECEIVED) | Q(
            status=SubmissionStatus.VALIDATING, updated_at__lt=stale_before
        )
        claimed = Submission.objects.filter(claimable, pk=self.pk).update(
            status=SubmissionStatus.VALIDATING,
            attempts=F("attempts") + 1,
            progress_done=0,
            validation_started_at=now,
            updated_at=now,
        )
        if claimed:
            self.refresh_from_db()
        return bool(claimed)

    def record_progress(self, done, total=None):
        """Lines checked so far; touches updated_at, which is the run's heartbeat."""
        values = {"progress_done": done, "updated_at": timezone.now()}
        if total is not None:
            values["progress_total"] = total
        # Only while this run holds the row: a decided submission keeps its numbers.
        Submission.objects.filter(pk=self.pk, status=SubmissionStatus.VALIDATING).update(**values)

    def record_findings(self, findings, *, total=None):
        """Store a finished run's report; valid when no finding is an error.
        Returns False (and stores nothing) if the row was taken from this run meanwhile."""
        errors, warnings = _count(findings, "error"), _count(findings, "warning")
        total = self.progress_total if total is None else total
        now = timezone.now()
        status = SubmissionStatus.INVALID if errors else SubmissionStatus.VALID
        stored = Submission.objects.filter(
            pk=self.pk, status=SubmissionStatus.VALIDATING, attempts=self.attempts
        ).update(
            status=status,
            findings=findings,
            error_count=errors,
            warning_count=warnings,
            progress_total=total,
            progress_done=total,
            validated_at=now,
            updated_at=now,
        )
        if stored:
            self.refresh_from_db()
        return bool(stored)

    # Why a decision is refused, by current status (shown to the curator with HTTP 409).
    _NOT_DECIDABLE = {
        SubmissionStatus.RECEIVED: "it has not been validated yet",
        SubmissionStatus.VALIDATING: "it is still being validated; wait for its report",
        SubmissionStatus.INVALID: "its report has errors; the depositor must send a corrected document",
        SubmissionStatus.APPROVING: "its approval is already in progress",
        SubmissionStatus.APPROVED: "it was already approved",
        SubmissionStatus.REJECTED: "it was already rejected",
    }
    REJECTABLE = (SubmissionStatus.RECEIVED, SubmissionStatus.VALID, SubmissionStatus.INVALID)

    def _refuse(self, action):
        raise SubmissionStateError(
            f"Submission {self.pk} cannot be {action}: {self._NOT_DECIDABLE.get(self.status, self.status)}."
        )

    def request_approval(self, *, by):
        """Record the curator's decision to approve (who, when) and mark the submission
        `approving`; a worker then writes the lines (lines.submissions.approval.run_approval).
        A conditional update, so two curators (or a double click) cannot both
        request it, and a rejection racing it cannot both win."""
        now = timezone.now()
        done = Submission.objects.filter(pk=self.pk, status=SubmissionStatus.VALID).update(
            status=SubmissionStatus.APPROVING,
            decided_by=by,
            decided_at=now,
            decision_reason="",
            approval_started_at=None,
            approval_attempts=0,
            updated_at=now,
        )
        self.refresh_from_db()
        if not done:
            self._refuse("approved")

    def claim_for_approval(self, *, stale_before=None):
        """Take this submission's approval for one run; False when another run has it
        (or it is no longer `approving`). As claim_for_validation: a conditional
        UPDATE, and a run that went quiet past `stale_before` (its worker died, its
        transaction rolled back) may be taken over. The row lock in
        lines.submissions.approval makes even an overlapping takeover write nothing twice."""
        now = timezone.now()
        stale_before = stale_before or now - settings.SUBMISSION_STALE_AFTER
        claimed = Submission.objects.filter(
            Q(approval_started_at__isnull=True) | Q(approval_started_at__lt=stale_before),
            pk=self.pk,
            status=SubmissionStatus.APPROVING,
        ).update(approval_started_at=now, approval_attempts=F("approval_attempts") + 1, updated_at=now)
        if claimed:
            self.refresh_from_db()
        return bool(claimed)

    def approve(self, *, by=None):
        """Mark approved. Only a `valid` submission, or one whose approval was requested
        (`approving`), may be approved. The catalog rows are written by
        lines.submissions.approval, which calls this inside its transaction with the row locked.
        `by` defaults to the curator who requested the approval."""
        if self.status not in (SubmissionStatus.VALID, SubmissionStatus.APPROVING):
            self._refuse("approved")
        if self.status == SubmissionStatus.VALID or self.decided_at is None:
            self.decided_at = timezone.now()
        self.status = SubmissionStatus.APPROVED
        self.decided_by = by or self.decided_by
        self.decision_reason = ""
        self.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"])

    def reject(self, *, by, reason):
        """Reject with a reason the depositor reads; the document and report are kept.
        A conditional update, so a rejection racing an approval (or a validation run
        finishing) cannot both win."""
        reason = (reason or "").strip()
        if not reason:
            raise ValueError("A rejection needs a reason the depositor can act on.")
        now = timezone.now()
        done = Submission.objects.filter(pk=self.pk, status__in=self.REJECTABLE).update(
            status=SubmissionStatus.REJECTED,
            decided_by=by,
            decided_at=now,
            decision_reason=reason,
            updated_at=now,
        )
        self.refresh_from_db()
        if not done:
            self._refuse("rejected")

    def invalidate(self, findings):
        """Add findings that turned up at approval time (a name taken since validation …)
        and mark the submission invalid, so the depositor sees why and can resubmit."""
        self.findings = [*self.findings, *findings]
        self.error_count, self.warning_count = _count(self.findings, "error"), _count(self.findings, "warning")
        self.status = SubmissionStatus.INVALID
        # Not decided after all: a requested approval that found a conflict is undone.
        self.decided_by = None
        self.decided_at = None
        self.save(
            update_fields=[
                "findings",
                "error_count",
                "warning_count",
                "status",
                "decided_by",
                "decided_at",
                "updated_at",
            ]
        )


class SubmissionStateError(Exception):
    """A state change the submission's current status does not allow (HTTP 409)."""
