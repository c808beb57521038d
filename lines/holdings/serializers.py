"""The shapes of the holdings API's answers (lines, donors, QC records, institutions,
facets), declared for the OpenAPI schema; the values come from
lines.holdings.representation."""

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from core.api import (
    bad_parameter,
)
from donors.models import AffectionStatus, Ancestry, FamilyHistory, OnsetSite, Sex, VariantOrigin
from lines.holdings import representation as rep
from lines.holdings.facets import FACETS
from lines.models import (
    Availability,
    CurationStatus,
    ModificationType,
    QCResult,
    QCStatus,
    QCTest,
    ReprogrammingMethod,
)

# What check_lookup accepts, as a regular expression (ECMA and Python alike).
PRINTABLE = "[^\\u0000-\\u001f\\u007f]"


def check_lookup(name, value, max_length):
    """400 for an identifier no object could have (too long, control characters)."""
    if len(value) > max_length or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise bad_parameter(name, f"Not a valid {name}: at most {max_length} printable characters.")


def lookup_parameter(name, max_length, description):
    """The path parameter check_lookup accepts, declared so in the schema (anything
    else is a 400, which a schema saying "any string" would call a wrong answer)."""
    return OpenApiParameter(
        name,
        str,
        OpenApiParameter.PATH,
        pattern=f"^{PRINTABLE}{{1,{max_length}}}$",
        description=f"{description} (at most {max_length} printable characters).",
    )


# -- serializers: declare the shape for the schema; representation.py builds it ----
class FastSerializer(serializers.Serializer):
    """Declares fields for the OpenAPI schema; `represent(instance, viewer)` builds the data."""

    def to_representation(self, instance):
        return self.represent(instance, self.context["viewer"])


def _choice(choices, **kwargs):
    return serializers.ChoiceField(choices=choices, **kwargs)


class DiseaseSerializer(serializers.Serializer):
    id = serializers.CharField(allow_null=True, help_text="MONDO id; null when the disease has no MONDO mapping")
    label = serializers.CharField(help_text="The MONDO label, or the disease as the source wrote it")
    mapped = serializers.BooleanField(help_text="False: shown as written, not mapped to MONDO")


class LineRefSerializer(serializers.Serializer):
    name = serializers.CharField()
    url = serializers.URLField()


class LinksSerializer(serializers.Serializer):
    cellosaurus = serializers.URLField(allow_null=True, help_text="https://www.cellosaurus.org/CVCL_xxxx")
    rrid = serializers.CharField(allow_null=True, help_text="RRID:CVCL_xxxx")
    hpscreg = serializers.URLField(
        allow_null=True,
        help_text="https://hpscreg.eu/cell-line/<registered name>; null unless an hPSCreg registration is recorded",
    )


class CellTypeSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Cell Ontology id")
    label = serializers.CharField(allow_null=True)


class DonorSummarySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Pseudonymous donor code.")
    url = serializers.URLField()
    sex = _choice(Sex.choices)
    age_at_sampling = serializers.IntegerField(allow_null=True)
    ancestry = _choice(Ancestry.choices)
    disease = DiseaseSerializer(allow_null=True, help_text="Null for a healthy control.")
    affection_status = _choice(
        AffectionStatus.choices,
        help_text="affected, unaffected (control) or carrier (unaffected carrier of a pathogenic variant; "
        "shown as unaffected unless the donor's genetic data is shown to you).",
    )
    family_history = _choice(FamilyHistory.choices, allow_null=True)
    onset_site = _choice(OnsetSite.choices, allow_null=True)


class DonorFactsSerializer(DonorSummarySerializer):
    institution = serializers.CharField(allow_null=True)
    age_at_onset = serializers.IntegerField(allow_null=True)
    alsfrs_r = serializers.IntegerField(allow_null=True, help_text="ALSFRS-R score (0-48).")
    alsfrs_r_date = serializers.DateField(allow_null=True)
    progression_rate = serializers.FloatField(allow_null=True, help_text="ALSFRS-R points lost per month.")
    c9orf72_repeats = serializers.IntegerField(allow_null=True, help_text="Null unless genetic data is shown.")
    atxn2_repeats = serializers.IntegerField(allow_null=True, help_text="Null unless genetic data is shown.")
    clinical_data = serializers.DictField(help_text="Other diseases' clinical facts (UPDRS, MMSE ...).")
    genetic_data = _choice(["open", "controlled", "none"], help_text="The consent's genetic-data level.")
    genetic_data_shown = serializers.BooleanField(help_text="Whether variants, STR and repeats are shown to you.")


class VariantSerializer(serializers.Serializer):
    gene = serializers.CharField()
    hgnc_id = serializers.CharField(allow_null=True)
    hgvs = serializers.CharField(allow_null=True)
    protein = serializers.CharField(allow_null=True)
    legacy_name = serializers.CharField(allow_null=True)
    zygosity = serializers.CharField(allow_null=True)
    classification = serializers.CharField(allow_null=True)
    origin = _choice(VariantOrigin.choices)
    repeat_size = serializers.IntegerField(allow_null=True)


class DuoCodeSerializer(serializers.Serializer):
    curie = serializers.CharField(help_text="DUO CURIE, e.g. DUO:0000042")
    shorthand = serializers.CharField(allow_null=True)
    label = serializers.CharField()


class AgreementConditionSerializer(DuoCodeSerializer):
    text = serializers.CharField(help_text="What the condition asks of you, in the eligibility answer's words.")
    curator_checks = serializers.BooleanField(
        help_text="A curator checks it against the consent document (the line is then ABSTAIN)."
    )


class ConsentTermsSerializer(serializers.Serializer):
    commercial_use = serializers.BooleanField(help_text="False under NCU, NPU or NPUNCU, or withdrawn consent.")
    not_for_profit_only = serializers.BooleanField()
    codes = DuoCodeSerializer(many=True)
    conditions = AgreementConditionSerializer(
        many=True,
        help_text="Codes that become conditions of the agreement (IRB, COL, PUB, RTN, MOR, TS, GSO, "
        "NMDS; GS, IS, PS, US, RS checked by a curator), as the eligibility check lists them.",
    )
    disease_restriction = serializers.CharField(allow_null=True, help_text="MONDO id of a DS consent.")
    genetic_data = _choice(["open", "controlled", "none"])
    withdrawn = serializers.BooleanField()


class QCTestSerializer(serializers.Serializer):
    test = _choice(QCTest.choices)
    label = serializers.CharField()
    required = serializers.BooleanField(help_text="A core test for release.")
    result = _choice(QCResult.choices, allow_null=True, help_text="Latest result; null when not done.")
    method = serializers.CharField(allow_null=True)
    tested_on = serializers.DateField(allow_null=True)
    passage = serializers.IntegerField(allow_null=True)
    testing_lab = serializers.CharField(allow_null=True)
    document = serializers.URLField(allow_null=True, help_text="Certificate of analysis.")
    records = serializers.IntegerField(help_text="How many records of this test exist.")


class QCSummarySerializer(serializers.Serializer):
    status = _choice(QCStatus.choices)
    tests = QCTestSerializer(many=True)


class IsogenicSerializer(serializers.Serializer):
    parent = LineRefSerializer(allow_null=True)
    siblings = LineRefSerializer(many=True, help_text="Other subclones of the same parent.")
    subclones = LineRefSerializer(many=True)


class ModificationSerializer(serializers.Serializer):
    type = _choice(ModificationType.choices)
    description = serializers.CharField(allow_null=True)


class StockSummarySerializer(serializers.Serializer):
    availability = serializers.ChoiceField(
        choices=["available", "on_request", "out_of_stock", "not_distributed"],
        help_text="Derived from stock (stock/availability.py), not typed by hand.",
    )
    label = serializers.CharField(help_text="e.g. 'Available (23 vials in 2 lots)'.")
    explanation = serializers.CharField()
    vials_in_stock = serializers.IntegerField()
    lots_in_stock = serializers.IntegerField()


class CellLineSummarySerializer(FastSerializer):
    name = serializers.CharField()
    url = serializers.URLField()
    alternative_names = serializers.ListField(child=serializers.CharField())
    status = _choice(CurationStatus.choices)
    availability = _choice(Availability.choices)
    qc_status = _choice(QCStatus.choices)
    stock = StockSummarySerializer(allow_null=True, help_text="Stock counts; null until the bank records stock.")
    commercial_use = serializers.BooleanField(help_text="The donor's consent allows commercial use.")
    institution = serializers.CharField(allow_null=True, help_text="Depositing institution code.")
    donor = DonorSummarySerializer(allow_null=True)
    source_cell_type = CellTypeSerializer(allow_null=True)
    reprogramming_method = _choice(ReprogrammingMethod.choices, allow_null=True)
    modification_type = _choice(ModificationType.choices)
    parental_line = serializers.CharField(allow_null=True, help_text="Name of the parental line.")
    genes = serializers.ListField(child=serializers.CharField(), help_text="Genes with a variant shown to you.")
    links = LinksSerializer()
    released_at = serializers.DateTimeField(allow_null=True)

    @staticmethod
    def represent(row, viewer):
        return rep.summary_from_row(row, viewer)


class StrDisagreementSerializer(serializers.Serializer):
    marker = serializers.CharField()
    alleles = serializers.ListField(child=serializers.CharField())
    sources = serializers.ListField(child=serializers.CharField(), help_text="Empty where the source is not known.")


class StrSourcesSerializer(serializers.Serializer):
    sources = serializers.ListField(child=serializers.CharField(), help_text="Who typed the profile.")
    disagreements = StrDisagreementSerializer(
        many=True, help_text="Each version of a marker the sources disagree on, with the sources reporting it."
    )


class RegistryParentSerializer(serializers.Serializer):
    accession = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    rrid = serializers.CharField(allow_null=True)
    url = serializers.URLField(allow_null=True)
    in_catalog = serializers.BooleanField(help_text="True when the parent is this catalog's parental line.")


class CellLineDetailSerializer(CellLineSummarySerializer):
    name_conforms = serializers.BooleanField()
    hpscreg_name = serializers.CharField(allow_null=True)
    cellosaurus_accession = serializers.CharField(allow_null=True)
    donor = DonorFactsSerializer(allow_null=True)
    variants = VariantSerializer(many=True)
    germline_variants_shown = serializers.BooleanField()
    modification = ModificationSerializer()
    isogenic = IsogenicSerializer()
    same_donor = LineRefSerializer(many=True, help_text="Other lines from the same donor.")
    qc = QCSummarySerializer()
    consent = ConsentTermsSerializer(allow_null=True)
    str_profile = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        allow_null=True,
        help_text="Marker → alleles; null unless genetic data is shown to you.",
    )
    str_shown = serializers.BooleanField()
    str_sources = StrSourcesSerializer(allow_null=True, help_text="Null unless genetic data is shown to you.")
    registry_parents = RegistryParentSerializer(
        many=True, help_text="Parents the registry names (Cellosaurus HI), catalog lines or not."
    )
    derived_on = serializers.DateField(allow_null=True)
    passage_at_banking = serializers.IntegerField(allow_null=True)
    culture_medium = serializers.CharField(allow_null=True)
    culture_matrix = serializers.CharField(allow_null=True)
    status_reason = serializers.CharField(allow_null=True)
    disease_note = serializers.CharField(allow_null=True)
    comments = serializers.CharField(allow_null=True)

    @staticmethod
    def represent(line, viewer):
        return rep.line_detail(line, viewer, **line._relatives)


class TombstoneSerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=["withdrawn"])
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(allow_null=True)
    released_at = serializers.DateTimeField(allow_null=True)
    rrid = serializers.CharField(allow_null=True)
    institution = serializers.CharField(allow_null=True)
    detail = serializers.CharField()


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField(allow_null=True, help_text="Null: not recorded.")
    label = serializers.CharField()
    count = serializers.IntegerField()


FacetsSerializer = type(
    "FacetsSerializer",
    (serializers.Serializer,),
    {name: FacetValueSerializer(many=True) for name in FACETS},
)


class FacetsResponseSerializer(serializers.Serializer):
    facets = FacetsSerializer()


class QCRecordSerializer(FastSerializer):
    id = serializers.IntegerField()
    line = serializers.CharField()
    line_url = serializers.URLField()
    test = _choice(QCTest.choices)
    label = serializers.CharField()
    result = _choice(QCResult.choices)
    method = serializers.CharField(allow_null=True)
    tested_on = serializers.DateField(allow_null=True)
    passage = serializers.IntegerField(allow_null=True)
    testing_lab = serializers.CharField(allow_null=True)
    document = serializers.URLField(allow_null=True)
    details = serializers.DictField(allow_null=True, help_text="Null unless genetic data is shown to you.")

    @staticmethod
    def represent(record, viewer):
        return rep.qc_record(record, viewer)


class InstitutionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    country = serializers.CharField()
    city = serializers.CharField(allow_blank=True)
    website = serializers.CharField(allow_blank=True)
    lines = serializers.IntegerField(source="visible_lines", help_text="Lines of it you may see.")
