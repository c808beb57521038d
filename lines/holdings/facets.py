"""Facet counts: how many lines per gene, disease, sex, ancestry, reprogramming
method, modification type, QC status, availability, institution (and curation
status, on the catalog page of curators and depositors). The one home of the rule,
read by the /lines/ page, /api/v1/lines/facets/ and /api/v1/lines/?facets=true.

The rule: a facet counts over the lines matching every filter; a facet with a
selection counts over the lines matching every *other* filter, so that its other
values stay offered and can be added (sex=female OR male).

`facet_counts(filterset)` takes a valid CellLineFilter over
`CellLine.objects.visible_to(user)` and answers in ONE SQL query: the filtered
lines are the body of a CTE (read and filtered once), each selected facet adds a
CTE of the lines matching the other filters, every facet is a GROUP BY over its
CTE, joined by UNION ALL; the gene facet joins them to the variants the user may
see (donors.disclosure). Works on PostgreSQL and SQLite alike.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q

from donors.affection import shown_status_expression
from donors.disclosure import genetic_data_public_sql, sees_all_genetic_data
from donors.models import AffectionStatus, Ancestry, Consent, Sex, Variant
from lines.holdings.filters import commercial_use_q, isogenic_q
from lines.models import (
    Availability,
    CurationStatus,
    ModificationType,
    QCStatus,
    ReprogrammingMethod,
)

# The facets, in the order they are returned; choice labels for the coded ones. Each
# is also the name of the line filter on the same field.
FACETS = (
    "affection_status",
    "gene",
    "disease",
    "sex",
    "ancestry",
    "reprogramming_method",
    "modification_type",
    "qc_status",
    "availability",
    "institution",
)
# Counted on request only: the catalog page shows it to those who see unreleased lines.
STATUS_FACET = "status"
_CHOICE_LABELS = {
    STATUS_FACET: dict(CurationStatus.choices),
    "affection_status": dict(AffectionStatus.choices),
    "sex": dict(Sex.choices),
    "ancestry": dict(Ancestry.choices),
    "reprogramming_method": dict(ReprogrammingMethod.choices),
    "modification_type": dict(ModificationType.choices),
    "qc_status": dict(QCStatus.choices),
    "availability": dict(Availability.choices),
}
# The most frequent values kept per facet (gene and disease can have hundreds).
MAX_VALUES_PER_FACET = 100


# CTE column → the ORM path it is read from (joins come from the queryset).
_CTE_COLUMNS = {
    "id": "pk",
    "donor_id": "donor_id",
    "reprogramming_method": "reprogramming_method",
    "modification_type": "modification_type",
    "qc_status": "qc_status",
    "availability": "availability",
    "affection_status": "affection_shown",
    "sex": "donor__sex",
    "ancestry": "donor__ancestry",
    "disease": "donor__disease",
    "disease_label": "donor__disease_label",
    "institution": "institution__code",
    "institution_name": "institution__name",
    "status": "status",
}
_CODED_COLUMNS = (
    "affection_status",
    "sex",
    "ancestry",
    "reprogramming_method",
    "modification_type",
    "qc_status",
    "availability",
    STATUS_FACET,
)


# The disease facet's two kinds of line without a MONDO disease: controls (no disease
# recorded) and diseases recorded in words that map to no MONDO term.
UNMAPPED_DISEASE = "~unmapped"
NO_DISEASE_LABEL = "No disease recorded (controls)"
UNMAPPED_DISEASE_LABEL = "Disease not mapped to MONDO"
# The quick yes/no filters whose matching lines the catalog page counts.
QUICK_COUNTS = ("commercial_use", "has_isogenic_control", "in_stock")


@dataclass
class FacetCounts:
    facets: dict
    total: int  # lines matching every filter
    qc_passed: int  # of which with a full QC panel passed
    quick: dict = field(default_factory=dict)  # quick filter → matching lines that have it


def _selected(filterset, name):
    return filterset.form.cleaned_data.get(name) not in (None, "", [], ())


def _cte(name, queryset, user):
    # A carrier is counted as one only where the user may see the donor's genetic data.
    queryset = queryset.order_by().annotate(affection_shown=shown_status_expression(user))
    inner, params = queryset.values(*_CTE_COLUMNS.values()).query.sql_with_params()
    return f"{name} ({', '.join(_CTE_COLUMNS)}) AS ({inner})", params


def _sql(filterset, names):
    q = connection.ops.quote_name
    variant, consent = Variant._meta.db_table, Consent._meta.db_table
    # Only identifiers from model metadata, facet names from the fixed FACETS and
    # fixed column names are formatted into the SQL; every user-supplied value
    # travels in `params` (the filtered querysets').
    ctes, params = [], []
    source = {}
    for cte, queryset in [("f", filterset.qs)] + [
        (f"f_{name}", filterset.queryset_without(name)) for name in names if _selected(filterset, name)
    ]:
        sql, cte_params = _cte(cte, queryset, filterset.user)
        ctes.append(sql)
        params.extend(cte_params)
        source[cte.removeprefix("f_")] = cte
    # Germline variants count only where the user may see them (see lines.holdings.filters).
    consent_join = (
        ""
        if sees_all_genetic_data(filterset.user)
        else (f"JOIN {q(consent)} c ON c.donor_id = s.donor_id AND {genetic_data_public_sql('c')}")
    )
    branches = [
        "SELECT '~total' AS facet, NULL AS value, NULL AS label, COUNT(*) AS n FROM f",
        "SELECT '~qc_passed', NULL, NULL, COUNT(*) FROM f WHERE f.qc_status = %s",
    ]
    params.append(QCStatus.PASSED)
    for name in names:
        s = source.get(name, "f")
        if name == "disease":
            key = f"CASE WHEN s.disease = '' AND s.disease_label <> '' THEN '{UNMAPPED_DISEASE}' ELSE s.disease END"
            branches.append(
                f"SELECT 'disease', {key}, MAX(s.disease_label), COUNT(*) FROM {s} s GROUP BY {key}"  # noqa: S608
            )
        elif name == "institution":
            branches.append(
                f"SELECT 'institution', s.institution, MAX(s.institution_name), COUNT(*) "  # noqa: S608
                f"FROM {s} s GROUP BY s.institution"
            )
        elif name in _CODED_COLUMNS:
            branches.append(
                f"SELECT '{name}', s.{name}, NULL, COUNT(*) FROM {s} s GROUP BY s.{name}"  # noqa: S608
            )
        elif name == "gene":
            branches.append(
                "SELECT 'gene', g.gene, NULL, COUNT(DISTINCT g.line_id) FROM ("  # noqa: S608
                f"SELECT v.gene AS gene, s.id AS line_id FROM {s} s JOIN {q(variant)} v ON v.line_id = s.id "
                "UNION ALL "
                f"SELECT v.gene, s.id FROM {s} s {consent_join} JOIN {q(variant)} v ON v.donor_id = s.donor_id"
                ") g GROUP BY g.gene"
            )
    sql = f"WITH {', '.join(ctes)} " + " UNION ALL ".join(branches)  # noqa: S608
    return sql, params


def shape_facets(rows, names):
    """{facet: [{"value", "label", "count"}, ...] most frequent first} from rows of
    (facet, value, label, count), as both the SQL and the index (facet_index) give them."""
    facets = {name: [] for name in names}
    for facet, value, label, count in rows:
        if facet == "disease" and value in ("", None, UNMAPPED_DISEASE):
            value, label = None, UNMAPPED_DISEASE_LABEL if value == UNMAPPED_DISEASE else NO_DISEASE_LABEL
        elif value in ("", None):
            value, label = None, "Not recorded"
        elif facet in _CHOICE_LABELS:
            label = _CHOICE_LABELS[facet].get(value, value)
        elif label in ("", None):
            label = value
        facets[facet].append({"value": value, "label": label, "count": int(count)})
    for name, values in facets.items():
        merged = {}
        for item in values:  # NULL and '' are one "Not recorded"
            key = (item["value"], item["label"])
            if key in merged:
                merged[key]["count"] += item["count"]
            else:
                merged[key] = item
        ordered = sorted(merged.values(), key=lambda item: (-item["count"], item["value"] or "", item["label"]))
        facets[name] = ordered[:MAX_VALUES_PER_FACET]
    return facets


def sql_facet_counts(filterset, names=FACETS):
    """The facets `names` of a valid CellLineFilter, with the number of matching lines,
    in one SQL query: the rule's truth (lines.holdings.facet_index answers the same
    from memory where it can; callers go through facet_index.facet_counts)."""
    sql, params = _sql(filterset, names)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    totals = {facet[1:]: int(count) for facet, _, _, count in rows if facet.startswith("~")}
    facets = shape_facets([row for row in rows if not row[0].startswith("~")], names)
    return FacetCounts(facets, totals["total"], totals["qc_passed"])


def sql_quick_counts(filterset, names=QUICK_COUNTS):
    """{quick filter: matching lines that have it}, one COUNT each: separate COUNTs, not
    FILTER (WHERE EXISTS …) in one aggregate, since PostgreSQL turns an EXISTS in WHERE
    into a semi-join but runs it once per row inside an aggregate (6.6 s against 1.3 s
    for both at 200,000 lines)."""
    conditions = {
        "commercial_use": commercial_use_q,
        "has_isogenic_control": lambda: isogenic_q(filterset.queryset),
        "in_stock": lambda: Q(vials_in_stock__gt=0),  # kept by stock.availability
    }
    return {name: filterset.qs.filter(conditions[name]()).count() for name in names}
