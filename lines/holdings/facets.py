"""Facet counts for a filtered set of lines: how many lines per gene, disease, sex,
ancestry, reprogramming method, modification type, QC status, availability and
institution, in ONE SQL query.

The filtered queryset is the body of a CTE, so the lines are read and filtered once;
every facet is then a GROUP BY over those materialised rows, joined by UNION ALL,
and the gene facet joins them to the variants the user may see. Works on
PostgreSQL and SQLite alike.

`facet_counts(queryset, user)` counts only over `queryset`, so pass a queryset
already limited by `CellLine.objects.visible_to(user)`; `user` decides which
germline variants count towards the gene facet (donors.disclosure).
"""

from django.db import connection

from donors.disclosure import genetic_data_public_sql, sees_all_genetic_data
from donors.models import Ancestry, Consent, Sex, Variant
from lines.models import Availability, ModificationType, QCStatus, ReprogrammingMethod

# The facets, in the order they are returned; choice labels for the coded ones.
FACETS = ("gene", "disease", "sex", "ancestry", "reprogramming_method", "modification_type",
          "qc_status", "availability", "institution")
_CHOICE_LABELS = {
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
    "id": "pk", "donor_id": "donor_id", "reprogramming_method": "reprogramming_method",
    "modification_type": "modification_type", "qc_status": "qc_status", "availability": "availability",
    "sex": "donor__sex", "ancestry": "donor__ancestry", "disease": "donor__disease",
    "disease_label": "donor__disease_label", "institution": "institution__code",
    "institution_name": "institution__name",
}


def _sql(queryset, user):
    q = connection.ops.quote_name
    variant, consent = Variant._meta.db_table, Consent._meta.db_table
    # Only identifiers from model metadata and fixed column names are formatted into
    # the SQL; every user-supplied value travels in `params` (the filtered queryset's).
    # The filtered queryset itself is the CTE body (one scan of the lines), its
    # columns named by the CTE's column list.
    inner, params = queryset.order_by().values(*_CTE_COLUMNS.values()).query.sql_with_params()
    # Germline variants count only where the user may see them (see lines.holdings.filters).
    consent_join = "" if sees_all_genetic_data(user) else (
        f"JOIN {q(consent)} c ON c.donor_id = f.donor_id AND {genetic_data_public_sql('c')}"
    )
    branches = [
        "SELECT 'disease' AS facet, f.disease AS value, MAX(f.disease_label) AS label, COUNT(*) AS n "
        "FROM f GROUP BY f.disease",
        "SELECT 'institution', f.institution, MAX(f.institution_name), COUNT(*) FROM f GROUP BY f.institution",
    ]
    for column in ("sex", "ancestry", "reprogramming_method", "modification_type", "qc_status", "availability"):
        branches.append(f"SELECT '{column}', f.{column}, NULL, COUNT(*) FROM f GROUP BY f.{column}")  # noqa: S608
    branches.append(
        "SELECT 'gene', g.gene, NULL, COUNT(DISTINCT g.line_id) FROM ("  # noqa: S608
        f"SELECT v.gene AS gene, f.id AS line_id FROM f JOIN {q(variant)} v ON v.line_id = f.id "
        "UNION ALL "
        f"SELECT v.gene, f.id FROM f {consent_join} JOIN {q(variant)} v ON v.donor_id = f.donor_id"
        ") g GROUP BY g.gene"
    )
    sql = f"WITH f ({', '.join(_CTE_COLUMNS)}) AS ({inner}) " + " UNION ALL ".join(branches)  # noqa: S608
    return sql, params


def facet_counts(queryset, user):
    """{facet: [{"value", "label", "count"}, ...] most frequent first} over `queryset`."""
    sql, params = _sql(queryset, user)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    facets = {name: [] for name in FACETS}
    for facet, value, label, count in rows:
        if value in ("", None):
            value, label = None, "Not recorded"
        elif facet in _CHOICE_LABELS:
            label = _CHOICE_LABELS[facet].get(value, value)
        elif label in ("", None):
            label = value
        facets[facet].append({"value": value, "label": label, "count": int(count)})
    for name, values in facets.items():
        values.sort(key=lambda item: (-item["count"], item["value"] or ""))
        facets[name] = values[:MAX_VALUES_PER_FACET]
    return facets
