"""Beacon counts from the facet index: for biosamples and individuals, each caller and
many filters, the index's answer (network.beacon.entry_types._lines.indexed_counts)
is the SQL answer, and so is what the Beacon reports (ranges below the threshold
included); a committed write changes the answer at once; a filter the index does not
hold, and a connection with uncommitted catalog writes, are answered by SQL.

The tests commit (transaction=True): the index answers only at the committed version."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from network.beacon.entry_types import biosamples, g_variants, individuals
from network.beacon.entry_types._lines import indexed_counts, indexed_variant_holders
from network.beacon.granularity import summary
from network.beacon.request import BeaconQuery
from tests.factories import CellLineFactory, DonorFactory, VariantFactory
from tests.network.beacon.test_beacon_answers import ask
from tests.network.conftest import ALS, ALS1

pytestmark = pytest.mark.django_db(transaction=True)

FEMALE, MALE, UNKNOWN_SEX, EUROPEAN = "NCIT:C16576", "NCIT:C20197", "NCIT:C17998", "HANCESTRO:0005"


def age(operator, years):
    return {"id": "age", "operator": operator, "value": years}


FILTERS = [
    [],
    [ALS],
    [ALS1],
    [ALS, FEMALE],
    [ALS, MALE],
    [FEMALE, MALE],
    [UNKNOWN_SEX],
    [EUROPEAN],
    [ALS, FEMALE, age(">=", "60")],
    [age("<", "60")],
    [age("=", "59")],
    [age(">", "P58Y"), age("<=", "63")],
    [{"id": "geneId", "operator": "=", "value": "C9orf72"}],
    [ALS, {"id": "geneId", "operator": "=", "value": "C9orf72"}, MALE],
    [{"id": "commercialUse", "operator": "=", "value": "true"}],
    [ALS, {"id": "commercialUse", "operator": "=", "value": "false"}],
    [{"id": "inStock", "operator": "=", "value": "true"}],
    [{"id": "sex", "operator": "=", "value": "male"}, ALS],
]
# Filters the index does not hold: DUO purposes, the source cell type, the site of onset.
SQL_ONLY = [["DUO:0000042"], ["CL:0000057"], ["HP:0002483", ALS]]
CALLERS = ("anonymous", "researcher", "other_depositor", "curator")


@pytest.fixture
def wider_bank(bank, owner_institution):
    """The bank plus a second line of one donor (a donor counts once) and a line with no
    donor (a biosample without an individual)."""
    CellLineFactory(donor=bank["NETD002"].donor, name="UKBi002-B", released_at=timezone.now())
    CellLineFactory(donor=None, institution=owner_institution, name="UKBi009-A", released_at=timezone.now())
    return bank


def sql_counts(user, filters):
    query = BeaconQuery(filters=filters)
    return biosamples.matches(user, query).count(), individuals.matches(user, query).count()


def _user(request, caller):
    return AnonymousUser() if caller == "anonymous" else request.getfixturevalue(caller)


@pytest.mark.parametrize("caller", CALLERS)
def test_the_index_counts_what_sql_counts_for_every_caller_and_filter(request, wider_bank, caller):
    user = _user(request, caller)
    for filters in FILTERS:
        assert indexed_counts(user, BeaconQuery(filters=filters)) == sql_counts(user, filters), filters


def test_the_beacon_reports_the_index_counts_as_it_reports_sql_counts(wider_bank, researcher):
    """Exact at or over the threshold, a range below it (anonymous), booleans alike."""
    for filters in FILTERS:
        for endpoint, position in (("biosamples", 0), ("individuals", 1)):
            for user in (None, researcher):
                truth = sql_counts(user or AnonymousUser(), filters)[position]
                for granularity in ("count", "boolean"):
                    answer = ask(endpoint, filters, user, granularity=granularity)
                    expected, returned, hidden = summary(truth, granularity, user)
                    assert answer["responseSummary"] == expected, (endpoint, filters, user)
                    assert answer["meta"]["returnedGranularity"] == returned
                    if hidden is not None:
                        assert answer["info"]["countRange"] == hidden
    # The counts came from the index (it was built at the committed version).
    assert indexed_counts(AnonymousUser(), BeaconQuery(filters=[ALS])) is not None


def test_a_committed_write_changes_the_answer_at_once(wider_bank, owner_institution):
    assert ask("individuals", [ALS])["responseSummary"]["numTotalResults"] == 5
    assert ask("biosamples", [ALS, FEMALE])["responseSummary"] == {"exists": True}  # 4 lines: a range
    donor = DonorFactory(institution=owner_institution, code="NETD006", donor_number="006", disease=ALS, sex="female")
    CellLineFactory(donor=donor, name="UKBi006-A", released_at=timezone.now())
    assert ask("individuals", [ALS])["responseSummary"]["numTotalResults"] == 6
    assert ask("biosamples", [ALS, FEMALE])["responseSummary"]["numTotalResults"] == 5
    assert indexed_counts(AnonymousUser(), BeaconQuery(filters=[ALS])) == (7, 6)


def test_uncommitted_writes_are_counted_by_sql(wider_bank, owner_institution):
    with transaction.atomic():
        donor = DonorFactory(institution=owner_institution, code="NETD006", donor_number="006", disease=ALS)
        CellLineFactory(donor=donor, name="UKBi006-A", released_at=timezone.now())
        assert indexed_counts(AnonymousUser(), BeaconQuery(filters=[ALS])) is None
        assert ask("individuals", [ALS])["responseSummary"]["numTotalResults"] == 6
        transaction.set_rollback(True)
    assert ask("individuals", [ALS])["responseSummary"]["numTotalResults"] == 5


@pytest.mark.parametrize("filters", SQL_ONLY)
def test_a_filter_the_index_does_not_hold_is_counted_by_sql(wider_bank, researcher, filters):
    assert indexed_counts(researcher, BeaconQuery(filters=filters)) is None
    lines, donors = sql_counts(researcher, filters)
    assert lines > 0
    assert ask("biosamples", filters, researcher)["responseSummary"]["numTotalResults"] == lines
    assert ask("individuals", filters, researcher)["responseSummary"]["numTotalResults"] == donors


@pytest.fixture
def bank_with_engineered_variants(wider_bank):
    """Engineered variants on lines (public like their line: on a released line, on a
    draft, on the line of a donor whose genetic data only curators see) beside the
    donors' germline C9orf72 expansions."""
    for line in (wider_bank["NETD001"], wider_bank["draft"], wider_bank["NETD005"]):
        VariantFactory(donor=None, line=line, gene="SOD1")
    VariantFactory(donor=wider_bank["NETD002"].donor, gene="SOD1", hgvs="NM_000454.5:c.272A>C", protein="p.Asp91Ala")
    return wider_bank


VARIANT_PARAMETERS = [{"geneId": "C9orf72"}, {"geneId": "SOD1"}, {"geneId": "SOD1", "aminoacidChange": "A4V"}]


@pytest.mark.parametrize("caller", CALLERS)
def test_g_variants_counts_from_the_index_are_the_sql_counts(request, bank_with_engineered_variants, caller):
    user = _user(request, caller)
    for parameters in VARIANT_PARAMETERS:
        for filters in FILTERS:
            query = BeaconQuery(filters=filters, request_parameters=parameters)
            assert indexed_variant_holders(user, query) is not None, filters  # the index answers
            assert g_variants.count(user, query) == g_variants.matches(user, query).count(), (parameters, filters)


def test_g_variants_count_follows_a_committed_write_and_disclosure(bank_with_engineered_variants, researcher):
    query = BeaconQuery(request_parameters={"geneId": "C9orf72"})
    # Four donors' expansions are open to a researcher; the fifth's consent keeps them to curators.
    assert g_variants.count(researcher, query) == 4
    consent = bank_with_engineered_variants["NETD005"].donor.consent
    with transaction.atomic():
        consent.genetic_data = "open"
        consent.save()
    assert indexed_variant_holders(researcher, query) is not None
    assert g_variants.count(researcher, query) == 5 == g_variants.matches(researcher, query).count()
