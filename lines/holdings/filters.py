"""The catalog's line filters, shared by the holdings API (/api/v1/lines/) and the
/lines/ web page: one FilterSet, `CellLineFilter(params, queryset, request=request)`.

Every filter is a plain query parameter named for what it filters. A value outside
a filter's choices or pattern is a form error, which the API turns into a 400 naming
the parameter. Repeating a parameter (sex=female&sex=male) means either value;
different parameters combine with AND.

Gene, variant and zygosity look at the variants the user may see: engineered
variants (made in the line; public like the line) and germline variants of the
donor where donors.disclosure opens them to the user (everyone on open consent, curators all).
So a filter can never reveal a variant a consent keeps to curators.
"""

import re

import django_filters as filters
from django import forms
from django.db.models import Q
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from core.models import DiseaseTerm, Gene
from donors import course, duo
from donors.affection import status_q
from donors.disclosure import clinical_course_visible_q, genetic_data_visible_q
from donors.models import (
    AffectionStatus,
    Ancestry,
    CognitiveStatus,
    Donor,
    FamilyHistory,
    KingsStage,
    OnsetSite,
    Sex,
    Variant,
    Zygosity,
)
from lines.models import (
    Availability,
    CellLine,
    CurationStatus,
    ModificationType,
    QCRecord,
    QCResult,
    QCStatus,
    QCTest,
    ReprogrammingMethod,
)
from lines.search_text import MAX_SEARCH_LENGTH, search_q

MONDO_RE = r"MONDO:\d{7}"
CL_RE = r"CL:\d{7}"
INSTITUTION_RE = r"[A-Z]{2,6}"
GENE_RE = r"[A-Za-z0-9][A-Za-z0-9.\-_@]{0,39}"
LINE_NAME_MAX = 40

TRUE_FALSE = (("true", "true"), ("false", "false"))


class PatternMultipleField(forms.MultipleChoiceField):
    """Repeated values, each checked against a pattern instead of a fixed list."""

    def __init__(self, *, pattern, what, **kwargs):
        kwargs.setdefault("error_messages", {})["invalid_choice"] = f"'%(value)s' is not a valid {what}."
        super().__init__(**kwargs)
        self.pattern = re.compile(pattern)

    def valid_value(self, value):
        return bool(self.pattern.fullmatch(value))


class PatternMultipleFilter(filters.MultipleChoiceFilter):
    """Annotate instances with the schema of ONE value (extend_schema_field): the
    schema extension makes multiple-value filters arrays itself."""

    field_class = PatternMultipleField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class IntegerFilter(filters.NumberFilter):
    field_class = forms.IntegerField


@extend_schema_field({"type": "boolean"})
class BoolFilter(filters.TypedChoiceFilter):
    """true/false, strictly: anything else is a 400, not silently ignored."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", TRUE_FALSE)
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


def _multi(choices, field_name, **kwargs):
    return filters.MultipleChoiceFilter(field_name=field_name, choices=choices, distinct=False, **kwargs)


def disease_and_subtypes(curies):
    """The given MONDO ids and every term that has one of them as an ancestor."""
    found = set(curies)
    q = Q()
    for curie in curies:
        # `ancestors` is a JSON list; matching its text works on SQLite and PostgreSQL alike.
        q |= Q(ancestors__icontains=f'"{curie}"')
    if curies:
        found.update(DiseaseTerm.objects.filter(q).values_list("curie", flat=True))
    return sorted(found)


def canonical_gene_symbols(values):
    """HGNC symbols for the given symbols, previous symbols or aliases (case-insensitive);
    values unknown to the vocabulary are kept as given."""
    wanted = {v.upper(): v for v in values}
    result = set()
    genes = list(Gene.objects.values_list("symbol", "previous_symbols", "alias_symbols"))
    for upper, original in wanted.items():
        match = next((s for s, _, _ in genes if s.upper() == upper), None)
        if match is None:
            match = next(
                (s for s, prev, alias in genes if upper in {a.upper() for a in (*prev, *alias)}),
                None,
            )
        result.add(match or original)
    return sorted(result)


def variant_name_q(value):
    """A variant named by HGVS protein (p.Ala5Val, Ala5Val), HGVS c./g. (with or without
    the transcript), or legacy name (A4V, or 'SOD1 A4V')."""
    value = value.strip()
    gene = None
    if " " in value:
        gene, value = value.split(None, 1)
    q = (
        Q(protein__iexact=value)
        | Q(protein__iexact=f"p.{value}")
        | Q(hgvs__iexact=value)
        | Q(hgvs__iendswith=f":{value}")
        | Q(legacy_name__iexact=value)
    )
    if gene:
        q &= Q(gene__iexact=gene)
    return q


def visible_variant_lines(queryset, variant_q, user):
    """Lines of `queryset` carrying a variant matching `variant_q` that the user may see."""
    variants = Variant.objects.filter(variant_q)
    engineered = variants.filter(line__isnull=False).values("line_id")
    germline = Q(donor_id__in=variants.filter(donor__isnull=False).values("donor_id"))
    # Checked on the line's own donor consent (already joined for the page), so the
    # subquery stays a plain index scan of the variants. (A UNION ALL of the two sets
    # was tried: on the 200,000-line bench the SOD1 + commercial list took 827 ms
    # against 222 ms for this OR; the Beacon's counts come from the facet index.)
    germline &= genetic_data_visible_q(user, "donor__")
    return queryset.filter(Q(pk__in=engineered) | germline)


def commercial_use_q():
    """Lines whose donor consent stands and carries none of NCU, NPU, NPUNCU (donors.duo)."""
    return duo.commercial_use_q(donor="donor_id")


# Query parameters of the purpose filter → the purpose fields check_purpose names.
PURPOSE_PARAMS = {
    "purpose.codes": "purpose",
    "purpose.disease": "purpose_disease",
    "organisation_type": "purpose_organisation_type",
}


def purpose_q(purpose, disease_ancestors):
    """The lines distribution.eligibility.evaluate() would APPROVE for a checked purpose:
    released, available for distribution, and the donor's consent approves it
    (donors.duo.approved_q). Parity: tests/distribution/test_eligibility.py."""
    return Q(status=CurationStatus.RELEASED, availability=Availability.AVAILABLE) & duo.approved_q(
        purpose, disease_ancestors, consent="donor__consent"
    )


def lines_for_purpose(queryset, purpose):
    """The lines of `queryset` a checked purpose may use now, in one query (plus one for
    the MONDO ancestors of a disease-specific purpose)."""
    ancestors = duo.disease_ancestors_for(purpose.disease) if duo.DS in purpose.codes else frozenset()
    return queryset.filter(purpose_q(purpose, ancestors))


def purpose_from_params(codes, disease=None, commercial=None, organisation_type=None, user=None):
    """(Purpose, MONDO ancestors of its disease) from the filters' purpose parameters:
    `purpose` (DUO codes, repeatable), `purpose_disease`, `purpose_commercial`,
    `purpose_organisation_type` (default: the user's profile, else academic).
    Raises duo.PurposeError keyed by parameter name."""
    if organisation_type in (None, ""):
        profile = getattr(user, "profile", None) if user is not None and user.is_authenticated else None
        organisation_type = profile.organisation_type if profile else "academic"
    purpose = duo.Purpose(frozenset(codes or ()), disease or None, bool(commercial), organisation_type)
    # One lookup answers both "is the disease known?" and "what are its ancestors?".
    ancestors = duo.disease_ancestors_for(purpose.disease)
    known = {purpose.disease} if purpose.disease and ancestors is not None else set()
    try:
        duo.check_purpose(purpose, known_diseases=known)
    except duo.PurposeError as error:
        raise duo.PurposeError({PURPOSE_PARAMS.get(k, k): v for k, v in error.problems.items()}) from error
    return purpose, ancestors


def isogenic_q(visible):
    """Lines with a parent or a subclone among the lines the user may see. Both sides
    start from the few lines that are subclones (the parental_line index), so the
    subqueries stay small at 200,000 lines."""
    subclones = visible.filter(parental_line__isnull=False)
    parents = visible.filter(pk__in=CellLine.objects.filter(parental_line__isnull=False).values("parental_line_id"))
    return Q(parental_line_id__in=parents.values("pk")) | Q(pk__in=subclones.values("parental_line_id"))


class CellLineFilter(filters.FilterSet):
    disease = extend_schema_field({"type": "string", "pattern": f"^{MONDO_RE}$"})(
        PatternMultipleFilter(
            method="filter_disease",
            pattern=MONDO_RE,
            what="MONDO id (MONDO:0004976)",
            help_text="MONDO id; includes its subtypes (MONDO:0004976 finds every ALS subtype).",
        )
    )
    gene = extend_schema_field({"type": "string", "pattern": f"^{GENE_RE}$"})(
        PatternMultipleFilter(
            method="filter_variants",
            pattern=GENE_RE,
            what="gene symbol",
            help_text="HGNC symbol, previous symbol or alias (SOD1, TDP-43).",
        )
    )
    variant = extend_schema_field({"type": "string", "maxLength": 200})(
        filters.CharFilter(
            method="filter_variants",
            max_length=200,
            help_text="HGVS protein (p.Ala5Val), HGVS c. (c.14C>T) or legacy name (A4V, 'SOD1 A4V').",
        )
    )
    zygosity = _multi(Zygosity.choices, None, method="filter_variants", help_text="Of a matching variant.")
    affection_status = _multi(
        AffectionStatus.choices,
        None,
        method="filter_affection_status",
        help_text="affected, unaffected (healthy controls) or carrier (unaffected carrier of a pathogenic "
        "variant; shown only where the donor's genetic data is shown to you).",
    )
    family_history = _multi(FamilyHistory.choices, "donor__family_history", help_text="familial or sporadic.")
    onset_site = _multi(OnsetSite.choices, "donor__onset_site")
    sex = _multi(Sex.choices, "donor__sex", help_text="Donor sex.")
    age_min = IntegerFilter(
        field_name="donor__age_at_sampling",
        lookup_expr="gte",
        min_value=0,
        max_value=120,
        help_text="Donor age at sampling, at least (years).",
    )
    age_max = IntegerFilter(
        field_name="donor__age_at_sampling",
        lookup_expr="lte",
        min_value=0,
        max_value=120,
        help_text="Donor age at sampling, at most (years).",
    )
    ancestry = _multi(Ancestry.choices, "donor__ancestry")
    # The clinical course (issue 15): each only over donors whose course the consent
    # shows the caller (donors.disclosure), so a filter never reveals a hidden course.
    progression_class = _multi(
        [(c, c) for c in course.PROGRESSION_CLASSES],
        None,
        method="filter_clinical",
        help_text="slow, intermediate or fast by ΔFS (cut-offs: PRISM_PROGRESSION_SLOW_BELOW / _FAST_ABOVE).",
    )
    kings_stage = _multi(KingsStage.choices, None, method="filter_clinical", help_text="King's stage at sampling.")
    delta_fs_min = filters.NumberFilter(
        method="filter_clinical", min_value=0, help_text="ΔFS at sampling, at least (points a month)."
    )
    delta_fs_max = filters.NumberFilter(
        method="filter_clinical", min_value=0, help_text="ΔFS at sampling, at most (points a month)."
    )
    cognitive_status = _multi(CognitiveStatus.choices, None, method="filter_clinical")
    source_cell_type = extend_schema_field({"type": "string", "pattern": f"^{CL_RE}$"})(
        PatternMultipleFilter(
            field_name="source_cell_type",
            pattern=CL_RE,
            what="Cell Ontology id (CL:0000057)",
            help_text="Cell Ontology id of the source cells.",
        )
    )
    reprogramming_method = _multi(ReprogrammingMethod.choices, "reprogramming_method")
    modification_type = _multi(ModificationType.choices, "modification_type")
    has_isogenic_control = BoolFilter(
        method="filter_isogenic", help_text="Has a parental line or subclones (an isogenic set)."
    )
    qc_passed = BoolFilter(method="filter_qc_passed", help_text="Every core QC test passed.")
    qc_status = _multi(QCStatus.choices, "qc_status")
    in_stock = BoolFilter(method="filter_in_stock", help_text="Vials of a released lot are in stock (issue 13).")
    availability = _multi(Availability.choices, "availability")
    commercial_use = BoolFilter(
        method="filter_commercial_use",
        help_text="Consent allows commercial use (no NCU, NPU or NPUNCU).",
    )
    institution = extend_schema_field({"type": "string", "pattern": f"^{INSTITUTION_RE}$"})(
        PatternMultipleFilter(
            field_name="institution__code",
            pattern=INSTITUTION_RE,
            what="institution code (UKB)",
            help_text="hPSCreg institution code of the depositor.",
        )
    )
    status = _multi(CurationStatus.choices, "status", help_text="Curation status (within what you may see).")
    # A research purpose (donors.duo): only lines whose donor's consent already allows
    # it (DUO matching, APPROVE). Combined in filter_queryset.
    purpose = extend_schema_field({"type": "string", "pattern": r"^DUO:\d{7}$"})(
        PatternMultipleFilter(
            method="filter_purpose",
            pattern=r"DUO:\d{7}",
            what="DUO purpose code (DUO:0000006)",
            help_text="Research purpose as DUO codes: DUO:0000042 GRU, DUO:0000006 HMB, DUO:0000007 DS "
            "(with purpose_disease), DUO:0000011 POA. Lists only lines whose consent allows it.",
        )
    )
    purpose_disease = extend_schema_field({"type": "string", "pattern": f"^{MONDO_RE}$"})(
        filters.CharFilter(
            method="filter_purpose",
            max_length=20,
            help_text="MONDO id studied, with purpose=DUO:0000007.",
        )
    )
    purpose_commercial = BoolFilter(method="filter_purpose", help_text="The stated purpose is commercial.")
    purpose_organisation_type = filters.ChoiceFilter(
        method="filter_purpose",
        choices=(
            ("academic", "academic"),
            ("non_profit", "non_profit"),
            ("commercial", "commercial"),
        ),
        help_text="Requester's organisation (default: your profile's).",
    )
    search = extend_schema_field({"type": "string", "maxLength": MAX_SEARCH_LENGTH})(
        filters.CharFilter(
            method="filter_search",
            max_length=MAX_SEARCH_LENGTH,
            help_text="Free text over names, synonyms, accessions, genes, variants and disease; every word must match.",
        )
    )

    class Meta:
        model = CellLine
        fields = []

    @property
    def user(self):
        return getattr(self.request, "user", None)

    def filter_queryset(self, queryset):
        return self.filter_queryset_except(queryset, None)

    def queryset_without(self, name):
        """The lines matching every filter but `name`: what a selected facet counts over
        (lines.holdings.facets). Only on a valid filterset."""
        return self.filter_queryset_except(self.queryset.all(), name)

    def _once(self, key, compute):
        # The lookups behind the filters (gene symbols, disease subtypes, the purpose's
        # disease) are made once per filterset, however often the facet counts rebuild
        # the queryset with one filter left out.
        lookups = self.__dict__.setdefault("_lookups", {})
        if key not in lookups:
            lookups[key] = compute()
        return lookups[key]

    def filter_queryset_except(self, queryset, skip):
        data = {name: value for name, value in self.form.cleaned_data.items() if name != skip}
        for name, value in data.items():
            queryset = self.filters[name].filter(queryset, value)
        age_min, age_max = data.get("age_min"), data.get("age_max")
        if age_min is not None and age_max is not None and age_min > age_max:
            # Raised after validation so that the API still names the parameter.
            raise ValidationError({"age_min": ["Must not exceed age_max."]})
        variant_q = Q()
        if data.get("gene"):
            genes = tuple(data["gene"])
            variant_q &= Q(gene__in=self._once(("gene", genes), lambda: canonical_gene_symbols(genes)))
        if data.get("variant"):
            variant_q &= variant_name_q(data["variant"])
        if data.get("zygosity"):
            variant_q &= Q(zygosity__in=data["zygosity"])
        if variant_q:
            queryset = visible_variant_lines(queryset, variant_q, self.user)
        purpose_params = (
            "purpose",
            "purpose_disease",
            "purpose_commercial",
            "purpose_organisation_type",
        )
        if any(data.get(name) not in (None, "", []) for name in purpose_params):
            try:
                purpose, ancestors = self._once(
                    "purpose",
                    lambda: purpose_from_params(
                        data.get("purpose"),
                        data.get("purpose_disease"),
                        data.get("purpose_commercial"),
                        data.get("purpose_organisation_type"),
                        self.user,
                    ),
                )
            except duo.PurposeError as error:
                raise ValidationError({k: [v] for k, v in error.problems.items()}) from error
            queryset = queryset.filter(purpose_q(purpose, ancestors))
        return queryset

    def filter_clinical(self, queryset, name, value):
        if value in (None, "", []):
            return queryset
        q = {
            "progression_class": lambda: course.progression_class_q(value, "donor__"),
            "kings_stage": lambda: Q(donor__kings_stage_at_sampling__in=value),
            "delta_fs_min": lambda: Q(donor__progression_rate__gte=value),
            "delta_fs_max": lambda: Q(donor__progression_rate__lte=value),
            "cognitive_status": lambda: Q(donor__cognitive_status__in=value),
        }[name]()
        return queryset.filter(q & clinical_course_visible_q(self.user, "donor__"))

    def filter_purpose(self, queryset, name, value):
        # The four purpose parameters make one question: filter_queryset asks it.
        return queryset

    def filter_variants(self, queryset, name, value):
        # gene, variant and zygosity must hold for the same variant: filter_queryset
        # combines them into one condition.
        return queryset

    def filter_disease(self, queryset, name, value):
        if not value:
            return queryset
        diseases = self._once(("disease", tuple(value)), lambda: disease_and_subtypes(value))
        return queryset.filter(donor__disease__in=diseases)

    def filter_affection_status(self, queryset, name, value):
        return queryset.filter(status_q(value, self.user)) if value else queryset

    def filter_isogenic(self, queryset, name, value):
        q = isogenic_q(CellLine.objects.visible_to(self.user))
        return queryset.filter(q) if value else queryset.exclude(q)

    def filter_qc_passed(self, queryset, name, value):
        passed = Q(qc_status=QCStatus.PASSED)
        return queryset.filter(passed) if value else queryset.exclude(passed)

    def filter_in_stock(self, queryset, name, value):
        # vials_in_stock is kept by stock.availability.refresh_line_stock.
        return queryset.filter(vials_in_stock__gt=0) if value else queryset.filter(vials_in_stock=0)

    def filter_commercial_use(self, queryset, name, value):
        q = commercial_use_q()
        return queryset.filter(q) if value else queryset.exclude(q)

    def filter_search(self, queryset, name, value):
        q = search_q(value, self.user)
        return queryset.filter(q) if q else queryset


class DonorFilter(filters.FilterSet):
    disease = extend_schema_field({"type": "string", "pattern": f"^{MONDO_RE}$"})(
        PatternMultipleFilter(
            method="filter_disease",
            pattern=MONDO_RE,
            what="MONDO id (MONDO:0004976)",
            help_text="MONDO id; includes its subtypes.",
        )
    )
    sex = _multi(Sex.choices, "sex")
    ancestry = _multi(Ancestry.choices, "ancestry")
    family_history = _multi(FamilyHistory.choices, "family_history")
    onset_site = _multi(OnsetSite.choices, "onset_site")
    age_min = IntegerFilter(field_name="age_at_sampling", lookup_expr="gte", min_value=0, max_value=120)
    age_max = IntegerFilter(field_name="age_at_sampling", lookup_expr="lte", min_value=0, max_value=120)
    institution = extend_schema_field({"type": "string", "pattern": f"^{INSTITUTION_RE}$"})(
        PatternMultipleFilter(field_name="institution__code", pattern=INSTITUTION_RE, what="institution code")
    )

    class Meta:
        model = Donor
        fields = []

    def filter_disease(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(disease__in=disease_and_subtypes(value))


class QCRecordFilter(filters.FilterSet):
    line = extend_schema_field({"type": "string", "maxLength": LINE_NAME_MAX})(
        filters.CharFilter(field_name="line__name", max_length=LINE_NAME_MAX, help_text="Line name.")
    )
    test = _multi(QCTest.choices, "test")
    result = _multi(QCResult.choices, "result")
    tested_after = filters.DateFilter(field_name="tested_on", lookup_expr="gte")
    tested_before = filters.DateFilter(field_name="tested_on", lookup_expr="lte")

    class Meta:
        model = QCRecord
        fields = []


# Sort keys of the line list: public name → model path.
LINE_ORDERINGS = {
    "name": "name",
    "released_at": "released_at",
    "derived_on": "derived_on",
    "created_at": "created_at",
    "age": "donor__age_at_sampling",
}
DEFAULT_LINE_ORDERING = ("name",)
# Sort keys unique on their own (no primary-key tie-break after them).
LINE_ORDERING_UNIQUE = ("name",)


def line_keysets():
    """Every single-key ordering of the line list as KeysetPagination spells it:
    [(path, descending)] followed by the primary key in the same direction unless
    the key is unique."""
    for path in LINE_ORDERINGS.values():
        for descending in (False, True):
            tail = () if path in LINE_ORDERING_UNIQUE else (("pk", descending),)
            yield ((path, descending), *tail)
