"""The facet index (lines.holdings.facet_index) answers exactly what the SQL facet
counts (lines.holdings.facets.sql_facet_counts, the rule's truth) answer: every facet,
the totals, the quick-filter counts and the matching lines, for each caller and many
filters; and it falls back to SQL where it cannot answer."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q
from django.http import QueryDict
from django.test import RequestFactory

from lines.holdings import facet_index
from lines.holdings.facet_index import DASHBOARD_TESTS, FacetIndex, answerable, matching_ids
from lines.holdings.facets import (
    FACETS,
    NO_DISEASE_LABEL,
    QUICK_COUNTS,
    STATUS_FACET,
    UNMAPPED_DISEASE_LABEL,
    FacetCounts,
    shape_facets,
    sql_facet_counts,
    sql_quick_counts,
)
from lines.holdings.filters import CellLineFilter
from lines.models import CellLine, QCRecord
from lines.qc import needs_vector_clearance_q
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory, QCRecordFactory, VariantFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "researcher", "depositor", "other_depositor", "curator")
FILTERS = [
    {},
    {"disease": ["MONDO:0004976"]},
    {"sex": ["female"]},
    {"sex": ["female", "male"], "ancestry": ["European"]},
    {"gene": ["SOD1"]},
    {"gene": ["FUS"], "qc_status": ["passed"]},
    {"gene": ["C9orf72"]},
    {"affection_status": ["carrier"]},
    {"affection_status": ["unaffected"]},
    {"affection_status": ["affected"], "sex": ["male"]},
    {"age_min": ["40"], "age_max": ["65"]},
    {"age_min": ["60"]},
    {"has_isogenic_control": ["true"]},
    {"has_isogenic_control": ["false"]},
    {"qc_passed": ["true"]},
    {"qc_passed": ["false"], "commercial_use": ["true"]},
    {"commercial_use": ["false"]},
    {"in_stock": ["false"]},
    {"institution": ["UKB"]},
    {"status": ["draft", "released"]},
    {"availability": ["available"], "reprogramming_method": ["sendai"]},
    {"modification_type": ["gene_correction"]},
]


@pytest.fixture
def wider_catalog(catalog, owner_institution, other_institution):
    """The page catalog plus a carrier whose consent keeps genetic data to curators, a
    disease recorded in words only, an engineered variant, and a line with no donor."""
    carrier = DonorFactory(
        institution=other_institution, code="UCSFD003", donor_number="003", disease="", disease_label=""
    )
    ConsentFactory(donor=carrier, genetic_data="controlled")
    VariantFactory(donor=carrier, gene="C9orf72", classification="pathogenic")
    carrier.affection_status = "carrier"
    carrier.save()
    CellLineFactory(donor=carrier, name="UCSFi003-A", reprogramming_method="sendai", availability="available")
    words = DonorFactory(
        institution=owner_institution, code="UKBD004", donor_number="004", disease="", disease_label="Odd syndrome"
    )
    ConsentFactory(donor=words, genetic_data="open")
    engineered = CellLineFactory(donor=words, name="UKBi004-A", modification_type="knock_in")
    VariantFactory(donor=None, line=engineered, gene="FUS")
    CellLineFactory(donor=None, institution=owner_institution, name="UKBi005-A")
    return catalog


def _filterset(user, params):
    request = RequestFactory().get("/")
    request.user = user
    data = QueryDict(mutable=True)
    for key, values in params.items():
        data.setlist(key, values)
    filterset = CellLineFilter(data, queryset=CellLine.objects.visible_to(user), request=request)
    assert filterset.is_valid(), filterset.errors
    return filterset


def _user(request, role):
    return AnonymousUser() if role == "anonymous" else request.getfixturevalue(role)


@pytest.mark.parametrize("role", ROLES)
def test_the_index_counts_what_sql_counts_for_every_caller_and_filter(request, wider_catalog, role):
    user = _user(request, role)
    index = FacetIndex("test")
    names = (*FACETS, STATUS_FACET)
    for params in FILTERS:
        filterset = _filterset(user, params)
        assert answerable(filterset), params
        rows, total, passed, mask, scope = index.facet_rows(filterset, names)
        truth = sql_facet_counts(filterset, names)
        assert (shape_facets(rows, names), total, passed) == (truth.facets, truth.total, truth.qc_passed), params
        flags = {"has_isogenic_control": scope.isogenic, "in_stock": index.in_stock, "commercial_use": index.commercial}
        quick = {name: int((mask & flags[name]).sum()) for name in QUICK_COUNTS}
        assert quick == sql_quick_counts(filterset), params
        assert sorted(index.ids[mask].tolist()) == sorted(filterset.qs.values_list("pk", flat=True)), params


def test_a_carrier_is_a_control_to_those_who_may_not_see_the_donors_genetic_data(request, wider_catalog, curator):
    public = FacetIndex("test").facet_rows(_filterset(AnonymousUser(), {}), FACETS)[0]
    curated = FacetIndex("test").facet_rows(_filterset(curator, {}), FACETS)[0]
    assert ("affection_status", "carrier") not in {row[:2] for row in public}
    assert ("affection_status", "carrier", None, 1) in curated
    assert ("gene", "C9orf72") not in {row[:2] for row in public}
    assert ("gene", "C9orf72", None, 1) in curated


def test_the_disease_facet_tells_controls_from_diseases_without_a_mondo_term(wider_catalog):
    facets = sql_facet_counts(_filterset(AnonymousUser(), {})).facets["disease"]
    labels = {v["label"]: v["count"] for v in facets if v["value"] is None}
    # Released with no MONDO disease: the healthy control, the carrier and the line with
    # no donor; and the disease recorded in words only.
    assert labels == {NO_DISEASE_LABEL: 3, UNMAPPED_DISEASE_LABEL: 1}


def test_free_text_search_and_filtered_querysets_go_to_sql(wider_catalog):
    assert not answerable(_filterset(AnonymousUser(), {"search": ["sod1"]}))
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    narrowed = CellLineFilter({}, queryset=CellLine.objects.visible_to(request.user).filter(name="x"), request=request)
    assert narrowed.is_valid()
    assert not answerable(narrowed)


def test_a_write_in_the_open_transaction_is_answered_by_sql(wider_catalog):
    # Inside this test's transaction the factories' writes are uncommitted.
    assert facet_index.current_index() is None
    counts = facet_index.facet_counts(_filterset(AnonymousUser(), {"sex": ["male"]}), quick=QUICK_COUNTS)
    assert isinstance(counts, FacetCounts) and set(counts.quick) == set(QUICK_COUNTS)
    assert matching_ids(_filterset(AnonymousUser(), {"sex": ["male"]})) is None


def test_the_dashboard_figures_from_the_index_are_the_sql_counts(wider_catalog):
    """Released lines per QC status, and per QC test the released lines with a record,
    a failing one and an inconclusive one, as COUNT(DISTINCT line) gives them."""
    QCRecordFactory(line=wider_catalog["fus"], test="mycoplasma", result="inconclusive")
    QCRecordFactory(line=wider_catalog["fus"], test="mycoplasma", result="fail")
    QCRecordFactory(line=wider_catalog["draft"], test="identity", result="fail")
    lines, per_test = FacetIndex("test").released_qc_figures()
    released = CellLine.objects.filter(status="released")
    assert lines["total"] == released.count()
    for status in ("passed", "failed", "incomplete"):
        assert lines[status] == released.filter(qc_status=status).count()
    assert lines["needs_vector"] == released.filter(needs_vector_clearance_q()).count()
    expected = {
        row["test"]: {k: row[k] for k in ("tested", "failing", "inconclusive")}
        for row in QCRecord.objects.filter(line__status="released", test__in=DASHBOARD_TESTS)
        .values("test")
        .annotate(
            tested=Count("line", distinct=True),
            failing=Count("line", distinct=True, filter=Q(result="fail")),
            inconclusive=Count("line", distinct=True, filter=Q(result="inconclusive")),
        )
    }
    empty = {"tested": 0, "failing": 0, "inconclusive": 0}
    assert per_test == {test: expected.get(test, empty) for test in DASHBOARD_TESTS}
    assert per_test["mycoplasma"]["failing"] == 2 and per_test["identity"]["failing"] == 0
