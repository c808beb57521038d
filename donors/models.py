"""Donors (pseudonymous), their consent and their genetic variants.

No names and no birth dates are ever stored: a donor is a public code, an age at
sampling in whole years, and the clinical facts users filter on.
"""

from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.catalog_version import CatalogModel, CatalogQuerySet
from donors.genomic import LOCATION_FIELDS, location_fields

MONDO_RE = r"^MONDO:\d{7}$"
DONOR_NUMBER_RE = r"^[A-Za-z0-9]{3}$"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    UNKNOWN = "unknown", "Unknown"
    UNDIFFERENTIATED = "undifferentiated", "Undifferentiated"


class Ancestry(models.TextChoices):
    AFRICAN = "African", "African"
    ADMIXED_AMERICAN = "Admixed American", "Admixed American"
    EAST_ASIAN = "East Asian", "East Asian"
    EUROPEAN = "European", "European"
    MIDDLE_EASTERN = "Middle Eastern", "Middle Eastern"
    SOUTH_ASIAN = "South Asian", "South Asian"
    OCEANIAN = "Oceanian", "Oceanian"
    UNKNOWN = "unknown", "Unknown"


class FamilyHistory(models.TextChoices):
    FAMILIAL = "familial", "Familial"
    SPORADIC = "sporadic", "Sporadic"
    UNKNOWN = "unknown", "Unknown"


class OnsetSite(models.TextChoices):
    BULBAR = "bulbar", "Bulbar"
    SPINAL = "spinal", "Spinal / limb"
    RESPIRATORY = "respiratory", "Respiratory"
    GENERALIZED = "generalized", "Generalized"
    UNKNOWN = "unknown", "Unknown"


class AffectionStatus(models.TextChoices):
    """Whether the donor has the disease (donors.affection derives it; never typed)."""

    AFFECTED = "affected", "Affected"
    UNAFFECTED = "unaffected", "Unaffected control"
    CARRIER = "carrier", "Unaffected carrier"


class DiagnosticCriteria(models.TextChoices):
    EL_ESCORIAL = "el_escorial", "El Escorial revised (Airlie House 2000)"
    GOLD_COAST = "gold_coast", "Gold Coast (2020)"


class DiagnosticCertainty(models.TextChoices):
    """El Escorial revised categories, and Gold Coast's yes/no."""

    DEFINITE = "definite", "Definite"
    PROBABLE = "probable", "Probable"
    PROBABLE_LAB = "probable_lab", "Probable, laboratory-supported"
    POSSIBLE = "possible", "Possible"
    ALS = "als", "ALS (Gold Coast)"
    NOT_ALS = "not_als", "Not ALS (Gold Coast)"


class CognitiveStatus(models.TextChoices):
    """Strong et al. 2017 (ALS-FTSD criteria); words in donors.clinical.COGNITION."""

    NORMAL = "normal", "Normal cognition"
    ALSCI = "ALSci", "ALS with cognitive impairment"
    ALSBI = "ALSbi", "ALS with behavioural impairment"
    ALSCBI = "ALScbi", "ALS with cognitive and behavioural impairment"
    ALS_FTD = "ALS-FTD", "ALS with frontotemporal dementia"


class KingsStage(models.TextChoices):
    """King's clinical stage (derived by donors.course.kings_stage)."""

    STAGE_0 = "0", "0 (no region involved)"
    STAGE_1 = "1", "1 (one region)"
    STAGE_2 = "2", "2 (two regions)"
    STAGE_3 = "3", "3 (three regions)"
    STAGE_4A = "4A", "4A (nutritional failure)"
    STAGE_4B = "4B", "4B (respiratory failure)"
    STAGE_5 = "5", "5 (death)"


class Donor(CatalogModel, models.Model):
    code = models.CharField(
        max_length=20,
        unique=True,
        help_text="Public pseudonymous code. Never a name, hospital number or birth date.",
    )
    institution = models.ForeignKey(
        "prism.Institution", null=True, blank=True, on_delete=models.PROTECT, related_name="donors"
    )
    donor_number = models.CharField(
        max_length=3,
        blank=True,
        validators=[RegexValidator(DONOR_NUMBER_RE)],
        help_text="The 3-character hPSCreg donor number every line of this donor carries.",
    )
    sex = models.CharField(max_length=20, choices=Sex.choices, default=Sex.UNKNOWN)
    age_at_sampling = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(120)], help_text="Whole years."
    )
    ancestry = models.CharField(max_length=20, choices=Ancestry.choices, default=Ancestry.UNKNOWN)
    disease = models.CharField(
        "disease (MONDO id)",
        max_length=20,
        blank=True,
        validators=[RegexValidator(MONDO_RE)],
        help_text="Empty for a healthy control.",
    )
    disease_label = models.CharField(max_length=300, blank=True)
    affection_status = models.CharField(
        max_length=12,
        choices=AffectionStatus.choices,
        default=AffectionStatus.UNAFFECTED,
        db_index=True,
        help_text="Derived (donors.affection): affected with a disease; otherwise an unaffected carrier "
        "of a (likely) pathogenic germline variant, or an unaffected control.",
    )
    # Clinical facts. Those for ALS are columns because researchers filter on
    # them; another disease's facts (UPDRS, MMSE …) go in clinical_data, so a
    # Parkinson's or Alzheimer's bank fits without a schema change.
    family_history = models.CharField(max_length=10, choices=FamilyHistory.choices, blank=True)
    onset_site = models.CharField(max_length=12, choices=OnsetSite.choices, blank=True)
    age_at_onset = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(120)])
    alsfrs_r = models.PositiveSmallIntegerField("ALSFRS-R", null=True, blank=True, validators=[MaxValueValidator(48)])
    alsfrs_r_date = models.DateField("ALSFRS-R date", null=True, blank=True)
    progression_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="ALSFRS-R points lost per month since onset.",
    )
    c9orf72_repeats = models.PositiveIntegerField("C9orf72 G4C2 repeats", null=True, blank=True)
    atxn2_repeats = models.PositiveSmallIntegerField("ATXN2 CAG repeats", null=True, blank=True)
    clinical_data = models.JSONField(default=dict, blank=True)
    # The clinical course (issue 15). Coded facts are typed; stages at sampling are
    # derived from the visits (donors.course) and never typed. Who sees them is
    # donors.disclosure (the clinical-course rule); exact dates never leave the bank.
    diagnostic_criteria = models.CharField(max_length=12, choices=DiagnosticCriteria.choices, blank=True)
    diagnostic_certainty = models.CharField(max_length=12, choices=DiagnosticCertainty.choices, blank=True)
    cognitive_status = models.CharField(max_length=8, choices=CognitiveStatus.choices, blank=True)
    phenotypic_features = models.JSONField(default=list, blank=True, help_text="HPO CURIEs (HP:0002380).")
    sampling_months_from_onset = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    kings_stage_at_sampling = models.CharField(max_length=2, choices=KingsStage.choices, blank=True)
    mitos_stage_at_sampling = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(5)])
    alsfrs_r_slope = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True, help_text="Points a month between visits (derived)."
    )
    viral_screening = models.JSONField(default=dict, blank=True, help_text='Test → result, e.g. {"HIV-1": "negative"}.')
    str_profile = models.JSONField(default=dict, blank=True, help_text="Marker → alleles.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = CatalogQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="donor_sex_valid"),
            models.CheckConstraint(condition=Q(ancestry__in=Ancestry.values), name="donor_ancestry_valid"),
            models.CheckConstraint(
                condition=Q(family_history__in=[*FamilyHistory.values, ""]),
                name="donor_family_history_valid",
            ),
            models.CheckConstraint(condition=Q(onset_site__in=[*OnsetSite.values, ""]), name="donor_onset_site_valid"),
            models.CheckConstraint(
                condition=Q(age_at_sampling__isnull=True) | Q(age_at_sampling__lte=120),
                name="donor_age_at_sampling_range",
            ),
            models.CheckConstraint(
                condition=Q(alsfrs_r__isnull=True) | Q(alsfrs_r__lte=48),
                name="donor_alsfrs_r_range",
            ),
            models.CheckConstraint(
                condition=Q(age_at_onset__isnull=True)
                | Q(age_at_sampling__isnull=True)
                | Q(age_at_onset__lte=models.F("age_at_sampling")),
                name="donor_onset_not_after_sampling",
            ),
            models.CheckConstraint(condition=Q(disease="") | Q(disease__regex=MONDO_RE), name="donor_disease_is_mondo"),
            models.CheckConstraint(
                condition=Q(kings_stage_at_sampling__in=[*KingsStage.values, ""]), name="donor_kings_stage_valid"
            ),
            models.CheckConstraint(
                condition=Q(cognitive_status__in=[*CognitiveStatus.values, ""]), name="donor_cognitive_status_valid"
            ),
            models.UniqueConstraint(
                fields=["institution", "donor_number"],
                condition=~Q(donor_number=""),
                name="donor_number_unique_per_institution",
            ),
        ]
        indexes = [
            models.Index(fields=["disease"]),
            models.Index(fields=["sex"]),
            models.Index(fields=["ancestry"]),
            models.Index(fields=["family_history"]),
            models.Index(fields=["onset_site"]),
            models.Index(fields=["age_at_sampling"]),
            models.Index(fields=["progression_rate"]),
            models.Index(fields=["kings_stage_at_sampling"]),
        ]

    def __str__(self):
        return self.code

    @property
    def is_healthy_control(self):
        return not self.disease


class GeneticDataSharing(models.TextChoices):
    """The consent's genetic-data level; who may see what is donors.disclosure."""

    OPEN = "open", "Open: anyone may see variants and STR"
    CONTROLLED = "controlled", "Controlled: curators only"
    NONE = "none", "None: genetic data is not shared"


class Consent(CatalogModel, models.Model):
    """What the donor agreed to, as DUO codes (CURIEs in the DuoTerm table)."""

    donor = models.OneToOneField(Donor, on_delete=models.CASCADE, related_name="consent")
    codes = models.ManyToManyField("prism.DuoTerm", related_name="consents", blank=True)
    disease = models.CharField(
        "consented disease (DS)", max_length=20, blank=True, validators=[RegexValidator(MONDO_RE)]
    )
    genetic_data = models.CharField(
        max_length=12, choices=GeneticDataSharing.choices, default=GeneticDataSharing.CONTROLLED
    )
    recontact = models.BooleanField(default=False)
    obtained_on = models.DateField(null=True, blank=True)
    withdrawn_on = models.DateField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    document_reference = models.CharField(max_length=200, blank=True, help_text="Consent form version or id.")

    history = HistoricalRecords(m2m_fields=[codes])
    objects = CatalogQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(genetic_data__in=GeneticDataSharing.values),
                name="consent_genetic_data_valid",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True)
                | Q(obtained_on__isnull=True)
                | Q(withdrawn_on__gte=models.F("obtained_on")),
                name="consent_withdrawn_after_obtained",
            ),
        ]

    def __str__(self):
        return f"Consent of {self.donor}"

    @property
    def is_withdrawn(self):
        return self.withdrawn_on is not None


class Zygosity(models.TextChoices):
    HETEROZYGOUS = "heterozygous", "Heterozygous"
    HOMOZYGOUS = "homozygous", "Homozygous"
    HEMIZYGOUS = "hemizygous", "Hemizygous"
    COMPOUND_HETEROZYGOUS = "compound_heterozygous", "Compound heterozygous"


class Classification(models.TextChoices):
    PATHOGENIC = "pathogenic", "Pathogenic"
    LIKELY_PATHOGENIC = "likely_pathogenic", "Likely pathogenic"
    UNCERTAIN = "uncertain", "Uncertain significance"
    LIKELY_BENIGN = "likely_benign", "Likely benign"
    BENIGN = "benign", "Benign"
    RISK_FACTOR = "risk_factor", "Risk factor"


class VariantOrigin(models.TextChoices):
    GERMLINE = "germline", "Germline (donor)"
    ENGINEERED = "engineered", "Engineered (gene edit)"


class VariantQuerySet(CatalogQuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for variant in objs:
            variant.fill_location()
        return super().bulk_create(objs, *args, **kwargs)

    bulk_create.alters_data = True


class Variant(CatalogModel, models.Model):
    """A genetic variant carried by a donor (germline) or made in a line (engineered)."""

    donor = models.ForeignKey(Donor, null=True, blank=True, on_delete=models.CASCADE, related_name="variants")
    line = models.ForeignKey("lines.CellLine", null=True, blank=True, on_delete=models.CASCADE, related_name="variants")
    gene = models.CharField("HGNC symbol", max_length=40)
    hgnc_id = models.CharField(max_length=20, blank=True)
    hgvs = models.CharField("HGVS c./g./n. notation", max_length=300, blank=True)
    protein = models.CharField("HGVS p. notation", max_length=200, blank=True)
    legacy_name = models.CharField(
        max_length=60, blank=True, help_text="Traditional name, e.g. SOD1 A4V (= p.Ala5Val)."
    )
    zygosity = models.CharField(max_length=24, choices=Zygosity.choices, blank=True)
    classification = models.CharField(max_length=20, choices=Classification.choices, blank=True)
    origin = models.CharField(max_length=12, choices=VariantOrigin.choices, default=VariantOrigin.GERMLINE)
    repeat_size = models.PositiveIntegerField(null=True, blank=True, help_text="For repeat expansions.")
    # Where a genomic (g.) HGVS places the variant (donors.genomic), filled on save from
    # `hgvs`; blank for a coding description. Positions are 1-based, inclusive.
    chromosome = models.CharField(max_length=2, blank=True, editable=False)
    assembly = models.CharField(max_length=10, blank=True, editable=False)
    position_start = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    position_end = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    reference_bases = models.CharField(max_length=300, blank=True, editable=False)
    alternate_bases = models.CharField(max_length=300, blank=True, editable=False)
    variant_type = models.CharField(max_length=8, blank=True, editable=False)

    history = HistoricalRecords()
    objects = VariantQuerySet.as_manager()

    class Meta:
        ordering = ["gene", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(donor__isnull=False) & Q(line__isnull=True))
                | (Q(donor__isnull=True) & Q(line__isnull=False)),
                name="variant_on_donor_or_line",
            ),
            models.CheckConstraint(condition=Q(zygosity__in=[*Zygosity.values, ""]), name="variant_zygosity_valid"),
            models.CheckConstraint(
                condition=Q(classification__in=[*Classification.values, ""]),
                name="variant_classification_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["gene"]),
            models.Index(fields=["protein"]),
            models.Index(fields=["chromosome", "position_start"], name="variant_chromosome_position"),
        ]

    def __str__(self):
        return f"{self.gene} {self.protein or self.hgvs}".strip()

    def save(self, *args, **kwargs):
        self.fill_location()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "hgvs" in update_fields:
            kwargs["update_fields"] = {*update_fields, *LOCATION_FIELDS}
        super().save(*args, **kwargs)

    def fill_location(self):
        """The location columns from `hgvs` (donors.genomic): on save and bulk_create."""
        for name, value in location_fields(self.hgvs).items():
            setattr(self, name, value)


class Visit(CatalogModel, models.Model):
    """One clinical visit: the 12 ALSFRS-R items as answered, and what they give
    (donors.course; derived at writing, never typed). `months_from_onset` is what
    leaves the bank; `visit_date` (when the depositor gave a date) never does."""

    donor = models.ForeignKey(Donor, on_delete=models.CASCADE, related_name="visits")
    months_from_onset = models.DecimalField(max_digits=5, decimal_places=1)
    visit_date = models.DateField(null=True, blank=True, help_text="Bank-internal; never shown or exported.")
    items = models.JSONField(default=dict, help_text='ALSFRS-R items {"1": 4, ... "5a": 3, ... "12": 4}.')
    alsfrs_r = models.PositiveSmallIntegerField(validators=[MaxValueValidator(48)])
    bulbar = models.PositiveSmallIntegerField()
    fine_motor = models.PositiveSmallIntegerField()
    gross_motor = models.PositiveSmallIntegerField()
    respiratory = models.PositiveSmallIntegerField()
    kings_stage = models.CharField(max_length=2, choices=KingsStage.choices)
    mitos_stage = models.PositiveSmallIntegerField(validators=[MaxValueValidator(5)])
    delta_fs = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    fvc_percent_predicted = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    medications = models.JSONField(default=list, blank=True, help_text="riluzole, edaravone, tofersen.")

    objects = CatalogQuerySet.as_manager()

    class Meta:
        ordering = ["donor_id", "months_from_onset", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(months_from_onset__gte=0), name="visit_not_before_onset"),
            models.CheckConstraint(condition=Q(alsfrs_r__lte=48), name="visit_alsfrs_r_range"),
            models.CheckConstraint(condition=Q(kings_stage__in=KingsStage.values), name="visit_kings_stage_valid"),
        ]

    def __str__(self):
        return f"{self.donor} at {self.months_from_onset} months"


class ClinicalEventKind(models.TextChoices):
    GASTROSTOMY = "gastrostomy", "Gastrostomy"
    NIV = "niv", "Non-invasive ventilation"
    TRACHEOSTOMY = "tracheostomy", "Tracheostomy"
    DEATH = "death", "Death"


class ClinicalEvent(CatalogModel, models.Model):
    """A milestone of the disease, as months from onset (the date stays in the bank)."""

    donor = models.ForeignKey(Donor, on_delete=models.CASCADE, related_name="clinical_events")
    kind = models.CharField(max_length=12, choices=ClinicalEventKind.choices)
    months_from_onset = models.DecimalField(max_digits=5, decimal_places=1)
    event_date = models.DateField(null=True, blank=True, help_text="Bank-internal; never shown or exported.")

    objects = CatalogQuerySet.as_manager()

    class Meta:
        ordering = ["donor_id", "months_from_onset", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ClinicalEventKind.values), name="event_kind_valid"),
            models.CheckConstraint(condition=Q(months_from_onset__gte=0), name="event_not_before_onset"),
            models.UniqueConstraint(fields=["donor", "kind"], name="event_once_per_kind"),
        ]

    def __str__(self):
        return f"{self.donor}: {self.kind} at {self.months_from_onset} months"
