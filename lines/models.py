"""Cell lines, their QC, STR reference profiles, and the submissions that create them.

STR profiles are stored normalised (see lines.str.matching): a JSON object from
canonical marker name to a sorted list of allele strings, e.g.
{"D5S818": ["11", "12"], "TH01": ["6", "9.3"], "Amelogenin": ["X"]}.
Where sources disagree at a marker, `str_conflicts` keeps every variant
({"D21S11": [["29", "30"], ["29"]]}) so that scoring can report best and worst.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.roles import institution_of, is_curator, is_depositor
from lines.qc import summarise_qc_status


class ReprogrammingMethod(models.TextChoices):
    SENDAI = "sendai", "Sendai virus"
    EPISOMAL = "episomal", "Episomal plasmids"
    MRNA = "mrna", "mRNA"
    LENTIVIRUS = "lentivirus", "Lentivirus"
    RETROVIRUS = "retrovirus", "Retrovirus"
    OTHER = "other", "Other"


class ModificationType(models.TextChoices):
    NONE = "none", "None (unmodified)"
    KNOCK_IN = "knock_in", "Knock-in"
    KNOCK_OUT = "knock_out", "Knock-out"
    GENE_CORRECTION = "gene_correction", "Gene correction"
    REPORTER = "reporter", "Reporter"
    OTHER = "other", "Other"


class CurationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    RELEASED = "released", "Released"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Availability(models.TextChoices):
    AVAILABLE = "available", "Available"
    RESTRICTED = "restricted", "Restricted"
    NOT_DISTRIBUTED = "not_distributed", "Not distributed"


class QCStatus(models.TextChoices):
    PASSED = "passed", "Every core test passed"
    INCOMPLETE = "incomplete", "Core tests missing or inconclusive"
    FAILED = "failed", "A core test failed"


def depositing_institution(user):
    """The institution whose unreleased lines the user sees: a depositor's own. None for
    everyone else, researchers attached to an institution included (the role decides,
    not the profile's institution); curators see every line anyway."""
    if not is_depositor(user):
        return None
    return institution_of(user)


class CellLineQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Released lines for everyone; a depositor also sees every line of their own
        institution; curators see all. Withdrawn lines are hidden from researchers."""
        if is_curator(user):
            return self
        released = Q(status=CurationStatus.RELEASED)
        institution = depositing_institution(user)
        if institution is not None:
            return self.filter(released | Q(institution=institution))
        return self.filter(released)

    def released(self):
        return self.filter(status=CurationStatus.RELEASED)


class CellLine(models.Model):
    name = models.CharField(
        max_length=40,
        unique=True,
        help_text="hPSCreg-style name, e.g. UKBi008-A or BIONi010-C-2. Imported names that break "
        "the pattern are kept and flagged.",
    )
    alternative_names = models.JSONField(default=list, blank=True)
    name_conforms = models.BooleanField(
        default=True, help_text="False when the name breaks the hPSCreg pattern (kept as imported)."
    )
    cellosaurus_accession = models.CharField(
        "Cellosaurus accession (RRID)", max_length=20, null=True, blank=True, unique=True
    )
    hpscreg_name = models.CharField("hPSCreg entry", max_length=40, blank=True)
    donor = models.ForeignKey(
        "donors.Donor", null=True, blank=True, on_delete=models.PROTECT, related_name="lines"
    )
    institution = models.ForeignKey(
        "prism.Institution", null=True, blank=True, on_delete=models.PROTECT, related_name="lines",
        help_text="Depositing institution.",
    )
    source_cell_type = models.CharField("source cell type (CL id)", max_length=20, blank=True)
    source_cell_type_label = models.CharField(max_length=200, blank=True)
    reprogramming_method = models.CharField(max_length=12, choices=ReprogrammingMethod.choices, blank=True)
    derived_on = models.DateField(null=True, blank=True)
    parental_line = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="subclones"
    )
    modification_type = models.CharField(
        max_length=16, choices=ModificationType.choices, default=ModificationType.NONE
    )
    modification_description = models.TextField(blank=True)
    culture_medium = models.CharField(max_length=100, blank=True)
    culture_matrix = models.CharField(max_length=100, blank=True)
    passage_at_banking = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    status = models.CharField(max_length=10, choices=CurationStatus.choices, default=CurationStatus.DRAFT)
    status_reason = models.TextField(blank=True, help_text="Required when a line is withdrawn.")
    availability = models.CharField(
        max_length=16, choices=Availability.choices, default=Availability.NOT_DISTRIBUTED
    )
    qc_status = models.CharField(
        max_length=10, choices=QCStatus.choices, default=QCStatus.INCOMPLETE,
        help_text="Kept by refresh_qc_status() whenever QC records change; filtered on at scale.",
    )
    str_profile = models.JSONField(default=dict, blank=True)
    str_conflicts = models.JSONField(default=dict, blank=True)
    disease_note = models.CharField(max_length=300, blank=True, help_text="Disease as the source wrote it.")
    comments = models.TextField(blank=True)
    submission = models.ForeignKey(
        "lines.Submission", null=True, blank=True, on_delete=models.SET_NULL, related_name="lines"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Denormalised, lower-cased text for free-text search (names, synonyms,
    # disease, genes and variants), kept by lines.search_text.refresh_search_text(): joining five
    # tables per row is too slow at 200,000 lines. Germline variants the donor's
    # consent does not open to everyone go to search_text_restricted, which only
    # curators' searches read, so a search cannot reveal them.
    search_text = models.TextField(blank=True, default="", editable=False)
    search_text_restricted = models.TextField(blank=True, default="", editable=False)

    history = HistoricalRecords(excluded_fields=["search_text", "search_text_restricted"])
    objects = CellLineQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CurationStatus.values), name="line_status_valid"),
            models.CheckConstraint(
                condition=Q(availability__in=Availability.values), name="line_availability_valid"
            ),
            models.CheckConstraint(
                condition=Q(modification_type__in=ModificationType.values), name="line_modification_valid"
            ),
            models.CheckConstraint(
                condition=Q(reprogramming_method__in=[*ReprogrammingMethod.values, ""]),
                name="line_reprogramming_valid",
            ),
            models.CheckConstraint(condition=Q(qc_status__in=QCStatus.values), name="line_qc_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=CurationStatus.WITHDRAWN) | ~Q(status_reason=""),
                name="line_withdrawal_needs_reason",
            ),
            models.CheckConstraint(
                condition=Q(passage_at_banking__isnull=True)
                | (Q(passage_at_banking__gte=1) & Q(passage_at_banking__lte=200)),
                name="line_passage_range",
            ),
            models.CheckConstraint(
                condition=Q(parental_line__isnull=True) | ~Q(parental_line=models.F("id")),
                name="line_not_own_parent",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "name"]),
            models.Index(fields=["availability"]),
            models.Index(fields=["qc_status"]),
            models.Index(fields=["reprogramming_method"]),
            models.Index(fields=["modification_type"]),
            models.Index(fields=["source_cell_type"]),
            models.Index(fields=["released_at"]),
        ]

    def __str__(self):
        return self.name

    def refresh_qc_status(self, save=True):
        """Sum the line's QC records up into qc_status (the rule: lines.qc.panel_verdict)."""
        self.qc_status = summarise_qc_status(self, list(self.qc_records.all()))
        if save:
            CellLine.objects.filter(pk=self.pk).update(qc_status=self.qc_status)
        return self.qc_status


class QCTest(models.TextChoices):
    IDENTITY = "identity", "Identity (STR/SNP)"
    GENOMIC_INTEGRITY = "genomic_integrity", "Genomic integrity"
    MYCOPLASMA = "mycoplasma", "Mycoplasma"
    STERILITY = "sterility", "Sterility"
    PLURIPOTENCY = "pluripotency", "Undifferentiated state (pluripotency markers)"
    TRILINEAGE = "trilineage", "Differentiation potential (three germ layers)"
    VECTOR_CLEARANCE = "vector_clearance", "Vector clearance"
    VIRAL_SCREENING = "viral_screening", "Viral screening"
    POST_THAW = "post_thaw", "Post-thaw recovery"


class QCResult(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class QCRecord(models.Model):
    line = models.ForeignKey(CellLine, on_delete=models.CASCADE, related_name="qc_records")
    test = models.CharField(max_length=20, choices=QCTest.choices)
    method = models.CharField(max_length=40, blank=True)
    result = models.CharField(max_length=12, choices=QCResult.choices)
    details = models.JSONField(
        default=dict, blank=True,
        help_text="Test-specific values: markers and % positive, karyotype and bands, germ layers, STR …",
    )
    passage = models.PositiveSmallIntegerField(null=True, blank=True)
    tested_on = models.DateField(null=True, blank=True)
    testing_lab = models.CharField(max_length=200, blank=True)
    document = models.FileField(upload_to="qc/%Y/", blank=True, help_text="Certificate of analysis.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["line", "test", "-tested_on"]
        verbose_name = "QC record"
        constraints = [
            models.CheckConstraint(condition=Q(test__in=QCTest.values), name="qc_test_valid"),
            models.CheckConstraint(condition=Q(result__in=QCResult.values), name="qc_result_valid"),
        ]
        indexes = [models.Index(fields=["line", "test"]), models.Index(fields=["test", "result"])]

    def __str__(self):
        return f"{self.line} {self.test}: {self.result}"


class ReferenceProfile(models.Model):
    """A Cellosaurus entry kept as an STR reference (any category, any species)."""

    accession = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    synonyms = models.JSONField(default=list, blank=True)
    category = models.CharField(max_length=100, blank=True)
    species = models.CharField(max_length=100, blank=True)
    sex = models.CharField(max_length=30, blank=True)
    diseases = models.JSONField(default=list, blank=True)
    problematic = models.TextField(blank=True)
    str_profile = models.JSONField(default=dict)
    str_conflicts = models.JSONField(default=dict, blank=True)
    str_sources = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["accession"]

    def __str__(self):
        return f"{self.name} ({self.accession})"


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
    # A curator approved it and a worker is writing its lines (lines.submissions.writer.run_approval).
    APPROVING = "approving", "Approving"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class SubmissionFormat(models.TextChoices):
    JSON = "json", "JSON"
    CSV = "csv", "CSV set (zip)"
    XLSX = "xlsx", "XLSX workbook"


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
    depositor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions"
    )
    institution = models.ForeignKey("prism.Institution", on_delete=models.PROTECT, related_name="submissions")
    protocol_version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="submissions")
    document = models.FileField(upload_to="submissions/%Y/%m/")
    format = models.CharField(max_length=5, choices=SubmissionFormat.choices, default=SubmissionFormat.JSON)
    original_filename = models.CharField(max_length=255, blank=True)
    document_sha256 = models.CharField(
        max_length=64, blank=True, db_index=True,
        help_text="Digest of the document's content (format-independent): approval recognises a document "
        "that was approved already.",
    )
    status = models.CharField(
        max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.RECEIVED
    )
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
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="decided_submissions"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    approval_started_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When a worker last took this submission's approval; empty while it waits in the queue.",
    )
    approval_attempts = models.PositiveSmallIntegerField(default=0)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SubmissionStatus.values), name="submission_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=SubmissionStatus.REJECTED) | ~Q(decision_reason=""),
                name="submission_rejection_needs_reason",
            ),
            models.CheckConstraint(
                condition=Q(progress_done__lte=models.F("progress_total")) | Q(progress_total=0),
                name="submission_progress_within_total",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"]), models.Index(fields=["institution", "status"])]

    def __str__(self):
        return f"Submission {self.pk} ({self.status})"

    # Statuses a validation run may claim: fresh ones, and (after the stale
    # time-out) ones whose worker died mid-run. A decided submission is never revalidated.
    CLAIMABLE = (SubmissionStatus.RECEIVED, SubmissionStatus.VALIDATING)

    @property
    def is_open(self):
        """Still waiting for validation or for a curator's decision."""
        return self.status in (SubmissionStatus.RECEIVED, SubmissionStatus.VALIDATING, SubmissionStatus.VALID)

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
        errors = sum(1 for f in findings if f.get("severity") == "error")
        warnings = sum(1 for f in findings if f.get("severity") == "warning")
        total = self.progress_total if total is None else total
        now = timezone.now()
        status = SubmissionStatus.INVALID if errors else SubmissionStatus.VALID
        stored = Submission.objects.filter(
            pk=self.pk, status=SubmissionStatus.VALIDATING, attempts=self.attempts
        ).update(
            status=status, findings=findings, error_count=errors, warning_count=warnings,
            progress_total=total, progress_done=total, validated_at=now, updated_at=now,
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
        `approving`; a worker then writes the lines (lines.submissions.writer.run_approval).
        A conditional update, so two curators (or a double click) cannot both
        request it, and a rejection racing it cannot both win."""
        now = timezone.now()
        done = Submission.objects.filter(pk=self.pk, status=SubmissionStatus.VALID).update(
            status=SubmissionStatus.APPROVING, decided_by=by, decided_at=now, decision_reason="",
            approval_started_at=None, approval_attempts=0, updated_at=now,
        )
        self.refresh_from_db()
        if not done:
            self._refuse("approved")

    def claim_for_approval(self, *, stale_before=None):
        """Take this submission's approval for one run; False when another run has it
        (or it is no longer `approving`). As claim_for_validation: a conditional
        UPDATE, and a run that went quiet past `stale_before` (its worker died, its
        transaction rolled back) may be taken over. The row lock in
        lines.submissions.writer makes even an overlapping takeover write nothing twice."""
        now = timezone.now()
        stale_before = stale_before or now - settings.SUBMISSION_STALE_AFTER
        claimed = Submission.objects.filter(
            Q(approval_started_at__isnull=True) | Q(approval_started_at__lt=stale_before),
            pk=self.pk, status=SubmissionStatus.APPROVING,
        ).update(approval_started_at=now, approval_attempts=F("approval_attempts") + 1, updated_at=now)
        if claimed:
            self.refresh_from_db()
        return bool(claimed)

    def approve(self, *, by=None):
        """Mark approved. Only a `valid` submission, or one whose approval was requested
        (`approving`), may be approved. The catalog rows are written by
        lines.submissions.writer, which calls this inside its transaction with the row locked.
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
            status=SubmissionStatus.REJECTED, decided_by=by, decided_at=now,
            decision_reason=reason, updated_at=now,
        )
        self.refresh_from_db()
        if not done:
            self._refuse("rejected")

    def invalidate(self, findings):
        """Add findings that turned up at approval time (a name taken since validation …)
        and mark the submission invalid, so the depositor sees why and can resubmit."""
        self.findings = [*self.findings, *findings]
        self.error_count = sum(1 for f in self.findings if f.get("severity") == "error")
        self.warning_count = sum(1 for f in self.findings if f.get("severity") == "warning")
        self.status = SubmissionStatus.INVALID
        # Not decided after all: a requested approval that found a conflict is undone.
        self.decided_by = None
        self.decided_at = None
        self.save(update_fields=["findings", "error_count", "warning_count", "status", "decided_by",
                                 "decided_at", "updated_at"])


class SubmissionStateError(Exception):
    """A state change the submission's current status does not allow (HTTP 409)."""


class StrSourceKind(models.TextChoices):
    LINE = "line", "Cell line"
    DONOR = "donor", "Donor"
    REFERENCE = "reference", "Cellosaurus reference"


class StrIndexEntry(models.Model):
    """One STR profile the catalog holds (a line's, a donor's or a Cellosaurus
    reference's), copied where the similarity search reads it.

    Kept by lines.str.store.reindex() from the code that writes profiles (no
    signals). Each write stamps the entry with a new generation from StrIndexState;
    a search process compares generations to pick up changes without reloading
    everything. A deleted or emptied profile stays as a `removed` row so that
    processes holding an index in memory learn about it.
    """

    kind = models.CharField(max_length=10, choices=StrSourceKind.choices)
    object_id = models.PositiveBigIntegerField()
    name = models.CharField(max_length=200)
    accession = models.CharField(max_length=20, blank=True)
    profile = models.JSONField(default=dict)
    conflicts = models.JSONField(default=dict, blank=True)
    mixture = models.BooleanField(default=False)
    removed = models.BooleanField(default=False)
    generation = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="str_index_one_entry_per_object"),
            models.CheckConstraint(condition=Q(kind__in=StrSourceKind.values), name="str_index_kind_valid"),
        ]
        indexes = [models.Index(fields=["generation"])]
        verbose_name = "STR index entry"
        verbose_name_plural = "STR index entries"

    def __str__(self):
        return f"{self.kind} {self.name}"


class StrIndexState(models.Model):
    """A single row: the generation of the last write to the STR index.

    Writers bump it with an UPDATE inside their transaction; the row lock makes
    generations commit in order, so a reader that has seen generation G has seen
    every entry stamped ≤ G."""

    generation = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "STR index state"

    def __str__(self):
        return f"STR index at generation {self.generation}"
