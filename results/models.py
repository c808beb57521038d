"""Experimental results on the lines: datasets, their files, measurements and dose-response fits.

A dataset moves received → validating → invalid | pending_review → released | rejected.
Validation (results.pipeline) runs in a Celery task and stores located findings on the
row, as a submission's does; a curator releases a valid dataset (results.actions).
Who may see a dataset and its numbers is `Dataset.objects.visible_to(user)` and
`Dataset.data_visible_to(user)`, both built on donors.disclosure.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from core.roles import is_curator
from donors.disclosure import results_public_q, results_shared_q, shares_results_of


class Assay(models.TextChoices):
    DIFFERENTIATION = "differentiation_efficiency", "Differentiation efficiency"
    SURVIVAL = "survival", "Survival over time"
    TDP43 = "tdp43_mislocalisation", "TDP-43 mislocalisation"
    NEURITE = "neurite_length", "Neurite length"
    MEA = "mea_firing_rate", "MEA firing rate"
    DOSE_RESPONSE = "dose_response", "Dose-response"
    RNA_SEQ = "rna_seq", "RNA-seq counts (files)"
    VCF = "vcf", "Variant calls, VCF (files)"


class DatasetStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    VALIDATING = "validating", "Validating"
    INVALID = "invalid", "Invalid"
    PENDING_REVIEW = "pending_review", "Valid, awaiting a curator"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"


class DepositFormat(models.TextChoices):
    JSON = "json", "JSON"
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


# Statuses whose measurements are written (validation passed).
VALID_STATUSES = (DatasetStatus.PENDING_REVIEW, DatasetStatus.RELEASED)


class DatasetQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Datasets whose metadata `user` may see.

        Curators see every dataset; the depositing institution (and the depositor)
        its own in every state. Everyone else sees released datasets whose every
        donor's consent opens their data (donors.disclosure.results_public_q): a
        controlled, withdrawn or missing consent keeps the dataset to curators and
        the depositing institution, kept and marked, never deleted."""
        if is_curator(user):
            return self
        lines = DatasetLine.objects.filter(dataset=OuterRef("pk"))
        released = Q(status=DatasetStatus.RELEASED) & results_public_q(lines, "line__donor__")
        own = results_shared_q(user)
        if user is not None and user.is_authenticated:
            own |= Q(depositor=user)
        return self.filter(released | own)

    def with_withdrawn_donor(self):
        """Datasets on a line whose donor withdrew consent."""
        withdrawn = DatasetLine.objects.filter(dataset=OuterRef("pk"), line__donor__consent__withdrawn_on__isnull=False)
        return self.filter(Exists(withdrawn))


class Dataset(models.Model):
    institution = models.ForeignKey(
        "prism.Institution",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="datasets",
        help_text="Depositing institution.",
    )
    depositor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="datasets")
    assay = models.CharField(max_length=32, choices=Assay.choices)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    protocol_name = models.CharField(max_length=200, blank=True)
    protocol_version = models.CharField(max_length=40, blank=True)
    protocol_url = models.URLField(max_length=500, blank=True)
    cell_type = models.CharField("differentiated cell type (CL id)", max_length=20, blank=True)
    cell_type_label = models.CharField(max_length=200, blank=True)
    performed_on = models.DateField(null=True, blank=True)
    licence = models.CharField(max_length=40, blank=True, help_text="SPDX identifier, e.g. CC-BY-4.0.")
    embargo_until = models.DateField(null=True, blank=True, help_text="Until then only the metadata is shown.")
    lines = models.ManyToManyField("lines.CellLine", through="DatasetLine", related_name="datasets")
    # What was deposited, as it arrived: the JSON document or the measurement table,
    # with the metadata sent beside a table (form fields or the API's `metadata`).
    format = models.CharField(max_length=4, choices=DepositFormat.choices, default=DepositFormat.JSON)
    document = models.FileField(upload_to="results/deposits/%Y/%m/")
    document_sha256 = models.CharField(max_length=64)
    metadata = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=DatasetStatus.choices, default=DatasetStatus.RECEIVED)
    findings = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    validated_at = models.DateTimeField(null=True, blank=True)
    fitted_seconds = models.FloatField(null=True, blank=True, help_text="Validation, writing and fitting time.")
    released_at = models.DateTimeField(null=True, blank=True)
    withdrawal_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DatasetQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(assay__in=Assay.values), name="dataset_assay_valid"),
            models.CheckConstraint(condition=Q(status__in=DatasetStatus.values), name="dataset_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=DatasetStatus.REJECTED) | ~Q(decision_reason=""),
                name="dataset_rejection_needs_reason",
            ),
        ]
        indexes = [models.Index(fields=["status", "assay"]), models.Index(fields=["status", "updated_at"])]

    def __str__(self):
        return f"Dataset {self.pk}: {self.title}"

    def is_embargoed(self, today: datetime.date | None = None) -> bool:
        return self.embargo_until is not None and self.embargo_until > (today or timezone.localdate())

    def data_visible_to(self, user) -> bool:
        """Whether `user` may see the numbers and files, not only the metadata: the embargo
        hides them from all but curators and the depositing institution until its date.
        The caller has already found the dataset through visible_to(user)."""
        if self.depositor_id and user is not None and user.pk == self.depositor_id:
            return True
        return shares_results_of(user, self.institution_id) or (
            self.status == DatasetStatus.RELEASED and not self.is_embargoed()
        )

    def claim_for_validation(self) -> bool:
        """Take this dataset for a validation run; False when another run has it (a
        conditional UPDATE: a redelivered task and a re-queue race here, one wins)."""
        now = timezone.now()
        stale = now - settings.SUBMISSION_STALE_AFTER
        claimable = Q(status=DatasetStatus.RECEIVED) | Q(status=DatasetStatus.VALIDATING, updated_at__lt=stale)
        claimed = Dataset.objects.filter(claimable, pk=self.pk).update(
            status=DatasetStatus.VALIDATING, attempts=F("attempts") + 1, updated_at=now
        )
        if claimed:
            self.refresh_from_db()
        return bool(claimed)


class DatasetLine(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="line_items")
    line = models.ForeignKey("lines.CellLine", on_delete=models.PROTECT, related_name="dataset_items")
    lot = models.CharField(max_length=60, blank=True, help_text="Batch or lot of the vials used.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "line"], name="dataset_line_once")]

    def __str__(self):
        return f"{self.line} in dataset {self.dataset_id}"


class DatasetFile(models.Model):
    """A file of a dataset (raw images, counts, VCF, the protocol document): kept in
    storage, with its digest, size and media type in the database."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to="results/files/%Y/%m/")
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    media_type = models.CharField(max_length=120)
    role = models.CharField(max_length=20, default="data", help_text="data | protocol")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Measurement(models.Model):
    """One value: a line (a well), a readout, its unit, and its conditions."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="measurements")
    line = models.ForeignKey("lines.CellLine", on_delete=models.PROTECT, related_name="measurements")
    readout = models.CharField(max_length=80, help_text="e.g. ISL1, survival, viability")
    value = models.FloatField()
    unit = models.CharField(max_length=20)
    replicate = models.PositiveSmallIntegerField(default=1)
    well = models.CharField(max_length=8, blank=True)
    compound = models.CharField(max_length=120, blank=True)
    concentration = models.FloatField(null=True, blank=True)
    concentration_unit = models.CharField(max_length=4, blank=True)
    time_point = models.FloatField(null=True, blank=True)
    time_unit = models.CharField(max_length=8, blank=True)

    class Meta:
        ordering = ["dataset_id", "line_id", "readout", "compound", "concentration", "time_point", "replicate", "id"]
        indexes = [models.Index(fields=["dataset", "line"]), models.Index(fields=["line", "readout"])]

    def __str__(self):
        return f"{self.readout}={self.value} {self.unit}"


class FitStatus(models.TextChoices):
    FITTED = "fitted", "Fitted"
    REFUSED = "refused", "Refused"


class DoseResponseFit(models.Model):
    """The four-parameter logistic of one line and compound in a dataset (results.fitting).
    Concentrations are in µM; a refused fit keeps its reason and no parameters."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="fits")
    line = models.ForeignKey("lines.CellLine", on_delete=models.PROTECT, related_name="dose_response_fits")
    compound = models.CharField(max_length=120)
    status = models.CharField(max_length=8, choices=FitStatus.choices)
    ec50_um = models.FloatField("EC50 (µM)", null=True, blank=True)
    ec50_ci_low_um = models.FloatField(null=True, blank=True)
    ec50_ci_high_um = models.FloatField(null=True, blank=True)
    hill = models.FloatField(null=True, blank=True)
    top = models.FloatField(null=True, blank=True)
    bottom = models.FloatField(null=True, blank=True)
    r_squared = models.FloatField(null=True, blank=True)
    points = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["compound", "line__name"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "line", "compound"], name="fit_once_per_line_and_compound"),
            models.CheckConstraint(condition=Q(status="refused") | Q(ec50_um__isnull=False), name="fitted_has_ec50"),
            models.CheckConstraint(condition=~Q(status="refused") | ~Q(message=""), name="refused_fit_says_why"),
        ]

    def __str__(self):
        return f"{self.compound} on {self.line_id}: {self.status}"
