"""Cell lines, their QC records and the Cellosaurus reference profiles.

STR profiles are stored normalised (see lines.str.matching): a JSON object from
canonical marker name to a sorted list of allele strings, e.g.
{"D5S818": ["11", "12"], "TH01": ["6", "9.3"], "Amelogenin": ["X"]}.
Where sources disagree at a marker, `str_conflicts` keeps every variant
({"D21S11": [["29", "30"], ["29"]]}) so that scoring can report best and worst.
"""

from dataclasses import dataclass

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.catalog_version import CatalogModel, CatalogQuerySet
from core.roles import depositing_institution, is_curator
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


@dataclass(frozen=True)
class VisibleScope:
    """Which lines a `visible_to(user)` queryset holds, as data: every line (curators),
    released lines plus one institution's (its depositors), or released lines."""

    everything: bool = False
    institution_id: int | None = None


class CellLineQuerySet(CatalogQuerySet):
    def visible_to(self, user):
        """Released lines for everyone; a depositor also sees every line of their own
        institution; curators see all. Withdrawn lines are hidden from researchers."""
        whole = not self.query.where and not self.query.is_sliced
        released = Q(status=CurationStatus.RELEASED)
        institution = depositing_institution(user)
        if is_curator(user):
            queryset, scope = self.all(), VisibleScope(everything=True)
        elif institution is not None:
            queryset = self.filter(released | Q(institution=institution))
            scope = VisibleScope(institution_id=institution.pk)
        else:
            queryset, scope = self.filter(released), VisibleScope()
        # The scope is set on this queryset only: any clone of it (filter(), all(),
        # exclude()) drops it, so a queryset carries a scope exactly when it is the
        # whole of what `user` may see (what lines.holdings.facet_index can answer for).
        queryset.visible_scope = scope if whole else None
        return queryset

    def released(self):
        return self.filter(status=CurationStatus.RELEASED)


class CellLine(CatalogModel, models.Model):
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
    donor = models.ForeignKey("donors.Donor", null=True, blank=True, on_delete=models.PROTECT, related_name="lines")
    institution = models.ForeignKey(
        "prism.Institution",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
        help_text="Depositing institution.",
    )
    source_cell_type = models.CharField("source cell type (CL id)", max_length=20, blank=True)
    source_cell_type_label = models.CharField(max_length=200, blank=True)
    reprogramming_method = models.CharField(max_length=12, choices=ReprogrammingMethod.choices, blank=True)
    derived_on = models.DateField(null=True, blank=True)
    parental_line = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="subclones")
    modification_type = models.CharField(max_length=16, choices=ModificationType.choices, default=ModificationType.NONE)
    modification_description = models.TextField(blank=True)
    culture_medium = models.CharField(max_length=100, blank=True)
    culture_matrix = models.CharField(max_length=100, blank=True)
    passage_at_banking = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    status = models.CharField(max_length=10, choices=CurationStatus.choices, default=CurationStatus.DRAFT)
    status_reason = models.TextField(blank=True, help_text="Required when a line is withdrawn.")
    availability = models.CharField(max_length=16, choices=Availability.choices, default=Availability.NOT_DISTRIBUTED)
    qc_status = models.CharField(
        max_length=10,
        choices=QCStatus.choices,
        default=QCStatus.INCOMPLETE,
        help_text="Kept by refresh_qc_status() whenever QC records change; filtered on at scale.",
    )
    # Kept by stock.availability.refresh_line_stock (the rule's home) whenever vials or
    # lots change (vials that can be shipped now; the words in stock_summary): the catalog
    # filters on it at 200,000 lines, and lines may not read stock.
    vials_in_stock = models.PositiveIntegerField(default=0, editable=False)
    stock_summary = models.JSONField(default=dict, blank=True, editable=False)
    # The lots a deposit declared (protocol version 2), as the document gave them;
    # stock.deposits records them as lots when a curator takes the stock in.
    declared_lots = models.JSONField(default=list, blank=True, editable=False)
    str_profile = models.JSONField(default=dict, blank=True)
    str_conflicts = models.JSONField(default=dict, blank=True)
    str_sources = models.JSONField(default=list, blank=True, help_text="Who typed the STR profile (Cellosaurus ST).")
    registry_parents = models.JSONField(
        default=list,
        blank=True,
        help_text='The parents the registry names (Cellosaurus HI): [{"accession": …, "name": …}], '
        "kept when they are not catalog lines (a fibroblast line, say).",
    )
    disease_note = models.CharField(max_length=300, blank=True, help_text="Disease as the source wrote it.")
    comments = models.TextField(blank=True)
    submission = models.ForeignKey(
        "lines.Submission", null=True, blank=True, on_delete=models.SET_NULL, related_name="lines"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True, help_text="When the line was withdrawn (its tombstone).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Denormalised, lower-cased text for free-text search (names, synonyms,
    # disease, genes and variants), kept by lines.search_text.refresh_search_text(): joining five
    # tables per row is too slow at 200,000 lines. Germline variants the donor's
    # consent does not open to everyone go to search_text_restricted, which only
    # curators' searches read, so a search cannot reveal them.
    search_text = models.TextField(blank=True, default="", editable=False)
    search_text_restricted = models.TextField(blank=True, default="", editable=False)

    history = HistoricalRecords(
        excluded_fields=["search_text", "search_text_restricted", "vials_in_stock", "stock_summary"]
    )
    objects = CellLineQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CurationStatus.values), name="line_status_valid"),
            models.CheckConstraint(condition=Q(availability__in=Availability.values), name="line_availability_valid"),
            models.CheckConstraint(
                condition=Q(modification_type__in=ModificationType.values),
                name="line_modification_valid",
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
            # The donors of the visible lines by an index-only scan (Beacon counts, joins on the donor).
            models.Index(fields=["status", "donor"], name="cellline_status_donor"),
            models.Index(fields=["availability"]),
            models.Index(fields=["qc_status"]),
            models.Index(fields=["reprogramming_method"]),
            models.Index(fields=["modification_type"]),
            models.Index(fields=["source_cell_type"]),
            models.Index(fields=["released_at"]),
            models.Index(fields=["vials_in_stock"]),
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


class QCRecord(CatalogModel, models.Model):
    line = models.ForeignKey(CellLine, on_delete=models.CASCADE, related_name="qc_records")
    test = models.CharField(max_length=20, choices=QCTest.choices)
    method = models.CharField(max_length=40, blank=True)
    result = models.CharField(max_length=12, choices=QCResult.choices)
    details = models.JSONField(
        default=dict,
        blank=True,
        help_text="Test-specific values: markers and % positive, karyotype and bands, germ layers, STR …",
    )
    passage = models.PositiveSmallIntegerField(null=True, blank=True)
    tested_on = models.DateField(null=True, blank=True)
    testing_lab = models.CharField(max_length=200, blank=True)
    document = models.FileField(upload_to="qc/%Y/", blank=True, help_text="Certificate of analysis.")

    history = HistoricalRecords()
    objects = CatalogQuerySet.as_manager()

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
