"""The facet index: every line's facet values as integer-coded NumPy columns, kept in
each web process and rebuilt when the catalog version changes (core/catalog_version.py),
so facet counts, the catalog's quick-filter counts, the home figures and selective
lists cost a few array operations instead of a GROUP BY over 200,000 lines.

`facet_counts(filterset, names)` is the one entry point for counting: it answers from
the index when it can and otherwise from `lines.holdings.facets.sql_facet_counts`,
which stays the rule's truth (tests/lines/holdings/test_facet_index.py asserts they
agree for every role and many filters). The index answers when
- the filterset's queryset is the whole of what its user may see (it carries the
  `VisibleScope` that `visible_to(user)` sets; any further filtering drops it), and
  every filter in use is one the index holds (not free text, variant names, purposes
  or the clinical course); and
- this connection has no uncommitted catalog writes (its own rows would be missing).

Visibility and disclosure are applied as masks: the lines of the scope
(released, plus an institution's, or all) and, for genetic data (the gene facet, the
carrier status), donors.disclosure's rule as a per-line flag, curators seeing all.

Correct under writes: the index remembers the version it was read at, read *before*
the rows, and every request compares it with the committed number (one primary-key
read), so after a commit every process rebuilds before it answers again.
"""

import threading
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models.expressions import RawSQL
from rest_framework.exceptions import ValidationError

from core import catalog_version
from donors.disclosure import PUBLIC_LEVEL
from donors.duo import NON_COMMERCIAL_CODES
from donors.models import AffectionStatus, Consent, Variant
from lines.holdings.facets import (
    FACETS,
    UNMAPPED_DISEASE,
    FacetCounts,
    shape_facets,
    sql_facet_counts,
    sql_quick_counts,
)
from lines.holdings.filters import canonical_gene_symbols, disease_and_subtypes
from lines.holdings.list_orders import ListOrders
from lines.models import CellLine, CurationStatus, QCRecord, QCResult, QCStatus
from lines.qc import CORE_TESTS, VECTOR_METHODS

# The QC tests the curator dashboard counts per released line.
DASHBOARD_TESTS = (*CORE_TESTS, "vector_clearance")
# Lists of at most this many matching lines are fetched by id from the index (at 9,000
# ids the joins of every matching row before the sort cost more than the filters).
MAX_LIST_IDS = 2_000
# Columns read as they are and counted by value (the facet or filter of the same name).
_CODED = {
    "status": "status",
    "institution": "institution__code",
    "reprogramming_method": "reprogramming_method",
    "modification_type": "modification_type",
    "qc_status": "qc_status",
    "availability": "availability",
    "sex": "donor__sex",
    "ancestry": "donor__ancestry",
    "affection": "donor__affection_status",
}
_OTHER = {
    "id": "pk",
    "parental_line_id": "parental_line_id",
    "vials_in_stock": "vials_in_stock",
    "donor_id": "donor_id",
    "disease": "donor__disease",
    "disease_label": "donor__disease_label",
    "age": "donor__age_at_sampling",
    "onset": "donor__age_at_onset",
    "institution_id": "institution_id",
    "institution_name": "institution__name",
    "consent_id": "donor__consent__id",
    "genetic_data": "donor__consent__genetic_data",
    "withdrawn_on": "donor__consent__withdrawn_on",
}
# Filters whose value the index reads (any other filter in use: the SQL path).
_VALUE_FILTERS = ("status", "institution", "reprogramming_method", "modification_type", "qc_status")
_VALUE_FILTERS += ("availability", "sex", "ancestry")
SUPPORTED_FILTERS = frozenset(
    (*_VALUE_FILTERS, "affection_status", "disease", "gene", "age_min", "age_max")
    + ("has_isogenic_control", "qc_passed", "in_stock", "commercial_use")
)


_NONE = "\x01"  # None among text values (NumPy strips a trailing NUL)


def _codes(values):
    """(codes, distinct values) of a sequence, None kept as a value of its own. Sorted as
    fixed-width text (np.unique on Python objects is 100x slower)."""
    if not len(values):
        return np.zeros(0, dtype=np.int32), []
    text = np.array([_NONE if v is None else v for v in values])
    distinct, codes = np.unique(text, return_inverse=True)
    return codes.astype(np.int32), [None if v == _NONE else str(v) for v in distinct]


def _rows(queryset):
    """The rows of a values_list queryset through one cursor, without the ORM's per-row
    work (200,000 rows: the largest part of a rebuild otherwise)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _in(column, wanted):
    codes, values = column
    chosen = [i for i, v in enumerate(values) if v in wanted]
    return np.isin(codes, chosen) if chosen else np.zeros(len(codes), dtype=bool)


def _number(values):
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


@dataclass
class _Scope:
    visible: np.ndarray  # lines the user may see
    genetic: np.ndarray  # lines whose donor's genetic data the user may see
    isogenic: np.ndarray  # lines with a parent or a subclone among the visible ones


class FacetIndex:
    """Every line's facet values at one catalog version (see the module docstring)."""

    def __init__(self, version):
        self.version = version
        rows = _rows(CellLine.objects.order_by("pk").values_list(*_CODED.values(), *_OTHER.values()))
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in (*_CODED, *_OTHER)]
        named = dict(zip((*_CODED, *_OTHER), columns, strict=True))
        self.size = len(rows)
        self.ids = np.array(named["id"], dtype=np.int64)
        self.coded = {name: _codes(named[name]) for name in _CODED}
        self.released = _in(self.coded["status"], {CurationStatus.RELEASED})
        self.institution_id = np.array([-1 if v is None else v for v in named["institution_id"]], dtype=np.int64)
        self.parent = self._positions(named["parental_line_id"])
        self.qc_passed = _in(self.coded["qc_status"], {QCStatus.PASSED})
        self.in_stock = np.array(named["vials_in_stock"], dtype=np.int64) > 0
        self.age, self.onset = _number(named["age"]), _number(named["onset"])
        self.donor_id = np.array([-1 if v is None else v for v in named["donor_id"]], dtype=np.int64)
        self.genetic_public = np.array(
            [
                g == PUBLIC_LEVEL and w is None
                for g, w in zip(named["genetic_data"], named["withdrawn_on"], strict=True)
            ],
            dtype=bool,
        )
        non_commercial = set(
            Consent.codes.through.objects.filter(duoterm_id__in=NON_COMMERCIAL_CODES).values_list(
                "consent__donor_id", flat=True
            )
        )
        self.commercial = np.array(
            [
                c is not None and w is None and d not in non_commercial
                for c, w, d in zip(named["consent_id"], named["withdrawn_on"], named["donor_id"], strict=True)
            ],
            dtype=bool,
        )
        self.disease = self._disease(named["disease"], named["disease_label"])
        self.institution_names = self._labels(self.coded["institution"], named["institution_name"])
        self.needs_vector = _in(self.coded["reprogramming_method"], set(VECTOR_METHODS)) & _in(
            self.coded["modification_type"], {"", "none", None}
        )
        self._genes()
        self._qc_tests()
        self.list_orders = ListOrders(self.ids)

    def _positions(self, ids):
        """Row positions of line ids (-1 for None)."""
        wanted = np.array([-1 if v is None else v for v in ids], dtype=np.int64)
        positions = np.searchsorted(self.ids, wanted)
        positions[wanted < 0] = -1
        return positions

    @staticmethod
    def _labels(column, labels):
        codes, values = column
        out = [""] * len(values)
        for code, label in zip(codes, labels, strict=True):
            if label and label > out[code]:
                out[code] = label
        return out

    def _disease(self, diseases, labels):
        # The facet tells controls (no disease recorded) from diseases recorded in words
        # that map to no MONDO term (lines.holdings.facets.UNMAPPED_DISEASE).
        keys = [UNMAPPED_DISEASE if d == "" and label else d for d, label in zip(diseases, labels, strict=True)]
        column = _codes(keys)
        return column, self._labels(column, labels)

    def _genes(self):
        """(line position, gene code, engineered) for every distinct (line, gene) with a
        variant: engineered variants are the line's, germline ones its donor's."""
        engineered = set(
            _rows(Variant.objects.filter(line__isnull=False).values_list("line_id", "gene").order_by().distinct())
        )
        germline = set(
            _rows(
                CellLine.objects.filter(donor__variants__isnull=False)
                .values_list("pk", "donor__variants__gene")
                .order_by()
                .distinct()
            )
        )
        pairs = sorted(engineered | germline)
        self.gene_line = self._positions([line for line, _ in pairs])
        self.gene_code, self.gene_values = _codes([gene for _, gene in pairs])
        self.gene_engineered = np.array([pair in engineered for pair in pairs], dtype=bool)

    def _qc_tests(self):
        """Per line, which dashboard QC tests it has a record of, and which of them failed
        or were inconclusive (any record), as bit masks (bit i: DASHBOARD_TESTS[i]): one
        grouped query instead of COUNT(DISTINCT) over every QC record per dashboard."""
        q = connection.ops.quote_name
        bits = " ".join(f"WHEN %s THEN {1 << i}" for i in range(len(DASHBOARD_TESTS)))
        sql = (
            f"SELECT line_id, SUM(bit), SUM(bit * failed), SUM(bit * inconclusive) FROM ("  # noqa: S608 - fixed names
            f"SELECT line_id, CASE test {bits} END AS bit, "
            "MAX(CASE WHEN result = %s THEN 1 ELSE 0 END) AS failed, "
            "MAX(CASE WHEN result = %s THEN 1 ELSE 0 END) AS inconclusive "
            f"FROM {q(QCRecord._meta.db_table)} WHERE test IN ({', '.join(['%s'] * len(DASHBOARD_TESTS))}) "
            "GROUP BY line_id, test) per_test GROUP BY line_id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*DASHBOARD_TESTS, QCResult.FAIL, QCResult.INCONCLUSIVE, *DASHBOARD_TESTS])
            rows = cursor.fetchall()
        self.qc_tested, self.qc_failing, self.qc_inconclusive = (np.zeros(self.size, dtype=np.int64) for _ in range(3))
        if rows:
            lines, tested, failing, inconclusive = (
                np.array(column, dtype=np.int64) for column in zip(*rows, strict=True)
            )
            positions = np.searchsorted(self.ids, lines)
            self.qc_tested[positions] = tested
            self.qc_failing[positions] = failing
            self.qc_inconclusive[positions] = inconclusive

    def released_qc_figures(self):
        """The curator dashboard's figures over released lines: ({total, passed, failed,
        incomplete, needs_vector}, {test: {tested, failing, inconclusive}})."""
        released = self.released
        codes, values = self.coded["qc_status"]
        status = {v: int(np.count_nonzero(released & (codes == i))) for i, v in enumerate(values)}
        lines = {
            "total": int(np.count_nonzero(released)),
            "passed": status.get(QCStatus.PASSED, 0),
            "failed": status.get(QCStatus.FAILED, 0),
            "incomplete": status.get(QCStatus.INCOMPLETE, 0),
            "needs_vector": int(np.count_nonzero(released & self.needs_vector)),
        }
        per_test = {}
        for i, test in enumerate(DASHBOARD_TESTS):
            bit = 1 << i
            per_test[test] = {
                "tested": int(np.count_nonzero(released & (self.qc_tested & bit > 0))),
                "failing": int(np.count_nonzero(released & (self.qc_failing & bit > 0))),
                "inconclusive": int(np.count_nonzero(released & (self.qc_inconclusive & bit > 0))),
            }
        return lines, per_test

    # -- what one user sees ------------------------------------------------------------
    def scope(self, visible_scope):
        if visible_scope.everything:
            visible = np.ones(self.size, dtype=bool)
            genetic = visible
        else:
            visible = self.released
            if visible_scope.institution_id is not None:
                visible = visible | (self.institution_id == visible_scope.institution_id)
            genetic = self.genetic_public
        has_parent = (self.parent >= 0) & visible[np.maximum(self.parent, 0)]
        has_child = np.zeros(self.size, dtype=bool)
        has_child[self.parent[visible & (self.parent >= 0)]] = True
        return _Scope(visible, genetic, has_parent | has_child)

    def shown_affection(self, scope):
        codes, values = self.coded["affection"]
        if AffectionStatus.CARRIER not in values or AffectionStatus.UNAFFECTED not in values:
            values = [*values, *(v for v in (AffectionStatus.CARRIER, AffectionStatus.UNAFFECTED) if v not in values)]
        carrier, unaffected = values.index(AffectionStatus.CARRIER), values.index(AffectionStatus.UNAFFECTED)
        shown = np.where((codes == carrier) & ~scope.genetic, unaffected, codes)
        return shown, values

    def _visible_pairs(self, scope):
        return self.gene_engineered | scope.genetic[np.maximum(self.gene_line, 0)]

    def masks(self, filterset, scope):
        """{filter name: mask of the lines it keeps} for the filters in use."""
        data = filterset.form.cleaned_data
        masks = {}
        for name in _VALUE_FILTERS:
            if data.get(name):
                masks[name] = _in(self.coded[name], set(data[name]))
        if data.get("affection_status"):
            masks["affection_status"] = _in(self.shown_affection(scope), set(data["affection_status"]))
        if data.get("disease"):
            value = tuple(data["disease"])
            curies = filterset._once(("disease", value), lambda: disease_and_subtypes(value))
            masks["disease"] = _in(self.disease[0], set(curies))
        if data.get("gene"):
            genes = tuple(data["gene"])
            symbols = set(filterset._once(("gene", genes), lambda: canonical_gene_symbols(genes)))
            pairs = _in((self.gene_code, self.gene_values), symbols) & self._visible_pairs(scope)
            mask = np.zeros(self.size, dtype=bool)
            mask[self.gene_line[pairs]] = True
            masks["gene"] = mask
        with np.errstate(invalid="ignore"):
            if data.get("age_min") is not None:
                masks["age_min"] = self.age >= data["age_min"]
            if data.get("age_max") is not None:
                masks["age_max"] = self.age <= data["age_max"]
        flags = {
            "has_isogenic_control": scope.isogenic,
            "qc_passed": self.qc_passed,
            "in_stock": self.in_stock,
            "commercial_use": self.commercial,
        }
        for name, flag in flags.items():
            if data.get(name) is not None and data.get(name) != "":
                masks[name] = flag if data[name] else ~flag
        return masks

    def matching(self, masks, scope, skip=None):
        mask = scope.visible.copy()
        for name, other in masks.items():
            if name != skip:
                mask &= other
        return mask

    def facet_rows(self, filterset, names):
        """(rows as sql_facet_counts reads them, total, qc_passed, the filters' mask, scope)."""
        scope = self.scope(filterset.queryset.visible_scope)
        masks = self.masks(filterset, scope)
        everything = self.matching(masks, scope)
        rows = []
        for name in names:
            mask = self.matching(masks, scope, skip=name) if name in masks else everything
            if name == "gene":
                pairs = mask[np.maximum(self.gene_line, 0)] & self._visible_pairs(scope)
                counts, values, labels = (
                    np.bincount(self.gene_code[pairs], minlength=len(self.gene_values)),
                    (self.gene_values),
                    None,
                )
            elif name == "disease":
                (codes, values), labels = self.disease
                counts = np.bincount(codes[mask], minlength=len(values))
            elif name == "affection_status":
                codes, values = self.shown_affection(scope)
                counts, labels = np.bincount(codes[mask], minlength=len(values)), None
            else:
                codes, values = self.coded[name]
                counts = np.bincount(codes[mask], minlength=len(values))
                labels = self.institution_names if name == "institution" else None
            rows += [
                (name, values[i], labels[i] if labels else None, int(n)) for i, n in enumerate(counts.tolist()) if n
            ]
        passed = int(np.count_nonzero(everything & self.qc_passed))
        return rows, int(np.count_nonzero(everything)), passed, everything, scope


_lock = threading.Lock()
_index: FacetIndex | None = None
_building = False


def forget_index():
    """Drop this process's index (tests: each rolled-back database starts afresh)."""
    global _index
    _index = None


def _build_in_background():
    global _index, _building
    try:
        # The thread reads the version itself, before the rows (the module docstring).
        _index = FacetIndex(catalog_version.current())
    finally:
        _building = False
        connection.close()  # the thread's own connection


def build_in_background():
    """Start a rebuild in a thread of its own unless one runs (a web process calls this
    as it starts, prism.startup, so that its first requests need not wait for SQL)."""
    global _building
    with _lock:
        start, _building = not _building, True
    if start:
        threading.Thread(target=_build_in_background, name="facet-index", daemon=True).start()


def current_index():
    """The index at the committed catalog version, or None: while this connection has
    uncommitted catalog writes, and (FACET_INDEX_IN_BACKGROUND) while a rebuild after a
    version change runs in a thread of its own, so that no request waits seconds for it."""
    global _index
    if catalog_version.has_uncommitted_writes():
        return None
    version = catalog_version.current()
    index = _index
    if index is not None and index.version == version:
        return index
    if settings.FACET_INDEX_IN_BACKGROUND:
        build_in_background()
        return None
    with _lock:
        if _index is None or _index.version != version:
            _index = FacetIndex(version)
        return _index


def answerable(filterset):
    """Whether the index can answer for this filterset (see the module docstring)."""
    if getattr(filterset.queryset, "visible_scope", None) is None or not filterset.is_valid():
        return False
    data = filterset.form.cleaned_data
    in_use = {name for name, value in data.items() if value not in (None, "", [], ())}
    age_min, age_max = data.get("age_min"), data.get("age_max")
    if age_min is not None and age_max is not None and age_min > age_max:
        raise ValidationError({"age_min": ["Must not exceed age_max."]})
    return in_use <= SUPPORTED_FILTERS


def _answering_index(filterset):
    return current_index() if answerable(filterset) else None


def facet_counts(filterset, names=FACETS, quick=()):
    """The facets `names` of a valid CellLineFilter (lines.holdings.facets has the rule),
    with the counts of the quick filters `quick` over the matching lines."""
    index = _answering_index(filterset)
    if index is None:
        counts = sql_facet_counts(filterset, names)
        counts.quick = sql_quick_counts(filterset, quick)
        return counts
    rows, total, passed, mask, scope = index.facet_rows(filterset, names)
    flags = {"has_isogenic_control": scope.isogenic, "in_stock": index.in_stock, "commercial_use": index.commercial}
    counts = FacetCounts(shape_facets(rows, names), total, passed)
    counts.quick = {name: int(np.count_nonzero(mask & flags[name])) for name in quick}
    return counts


def _matching(filterset):
    """(index, mask of the lines the filterset matches) or None where SQL must answer."""
    index = _answering_index(filterset)
    if index is None:
        return None
    scope = index.scope(filterset.queryset.visible_scope)
    return index, index.matching(index.masks(filterset, scope), scope)


def matching_ids(filterset, limit=MAX_LIST_IDS):
    """The ids of the lines matching the filters, from the index, when it can answer and
    at most `limit` match (else None: the list runs its own query)."""
    found = _matching(filterset) if filterset.is_valid() and filterset.form.cleaned_data else None
    if found is None or int(np.count_nonzero(found[1])) > limit:
        return None
    index, mask = found
    return index.ids[mask].tolist()


def line_and_donor_counts(filterset):
    """(lines matching the filterset, their distinct donors) from the index, or None
    where it cannot answer (the caller counts in SQL): the Beacon's biosamples and
    individuals counts, with the same visibility and disclosure masks as the facets."""
    found = _matching(filterset)
    if found is None:
        return None
    index, mask = found
    return int(np.count_nonzero(mask)), _distinct(index.donor_id[mask])


def variant_holders(filterset):
    """Where the index answers the filterset: (lines, donors) as boolean arrays indexed
    by primary key: the matching lines, and the donors of those whose genetic data the
    caller may see (the per-line disclosure flag the gene facet uses); else None. For
    counting the variants of the matching lines (the Beacon's g_variants counts)
    without a subquery over every matching line."""
    index = _answering_index(filterset)
    if index is None:
        return None
    scope = index.scope(filterset.queryset.visible_scope)
    mask = index.matching(index.masks(filterset, scope), scope)
    lines = np.zeros(int(index.ids.max(initial=-1)) + 1, dtype=bool)
    lines[index.ids[mask]] = True
    donors_of = index.donor_id[mask & scope.genetic]
    donors = np.zeros(int(index.donor_id.max(initial=-1)) + 1, dtype=bool)
    donors[donors_of[donors_of >= 0]] = True
    return lines, donors


def ranked_lines(filterset):
    """For KeysetPagination.paginate_queryset(ranked=...): where the index answers the
    filterset, the page's ids in the list order from its precomputed orders (at any
    number of matching lines); else None (the list's query answers)."""
    if not filterset.is_valid():
        return None
    found = _matching(filterset)
    if found is None:
        return None
    index, mask = found

    def ranked(keys, after, limit):
        return index.list_orders.ranked(mask, keys, after, limit)

    return ranked


def filtered_lines(filterset):
    """The filterset's lines: for a selective search the index answers, the lines of
    those ids (a primary-key lookup instead of the filters' joins and subqueries)."""
    ids = matching_ids(filterset)
    if ids is None:
        return filterset.qs
    if connection.vendor == "postgresql":
        # As a set the planner can hash (a semi-join): a long IN list is otherwise
        # checked element by element on every row of an ordered index scan.
        return filterset.queryset.filter(pk__in=RawSQL("SELECT unnest(%s::bigint[])", [ids]))
    return filterset.queryset.filter(pk__in=ids)


def catalog_figures(visible_scope):
    """Home-page figures from the index for a visible scope (None: use SQL): lines,
    donors, institutions, lines per age-at-onset band, and lines without an onset."""
    index = current_index()
    if index is None:
        return None
    scope = index.scope(visible_scope)
    mask = scope.visible
    return {
        "lines": int(np.count_nonzero(mask)),
        "donors": _distinct(index.donor_id[mask]),
        "institutions": _distinct(index.institution_id[mask]),
        "onset": index.onset[mask],
    }


def _distinct(ids):
    """How many distinct ids (>= 0; -1 is None) an array holds: marked in a table as
    long as the largest id (np.unique sorts, 20x slower at 200,000 lines)."""
    ids = ids[ids >= 0]
    seen = np.zeros(int(ids.max(initial=-1)) + 1, dtype=bool)
    seen[ids] = True
    return int(np.count_nonzero(seen))


def released_qc_figures():
    """The curator dashboard's line and QC figures from the index (None: use SQL)."""
    index = current_index()
    return None if index is None else index.released_qc_figures()
