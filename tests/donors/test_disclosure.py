"""donors.disclosure: who may see a donor's genetic data. Its Python, Q and SQL forms
agree on every case: each consent level, withdrawn consent, no consent row, a line
without a donor, and every kind of caller."""

import datetime
import itertools

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from donors.disclosure import (
    consent_is_public,
    genetic_data_is_public,
    genetic_data_public_q,
    genetic_data_public_sql,
    genetic_data_visible_q,
    may_see_genetic_data,
)
from donors.models import Consent, Donor, GeneticDataSharing
from lines.models import CellLine
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory

pytestmark = pytest.mark.django_db

CALLERS = (
    "anonymous",
    "no_user",
    "researcher",
    "institution_researcher",
    "depositor",
    "other_depositor",
    "curator",
)
WITHDRAWN_ON = datetime.date(2025, 2, 1)


@pytest.fixture
def donors(owner_institution):
    """One donor of the owning institution per (level, withdrawn) case, and one without
    a consent row; each with a line. Keyed by (level or None, withdrawn)."""
    cases = {}
    for level, withdrawn in itertools.product(GeneticDataSharing.values, (False, True)):
        donor = DonorFactory(institution=owner_institution)
        ConsentFactory(donor=donor, genetic_data=level, withdrawn_on=WITHDRAWN_ON if withdrawn else None)
        cases[(level, withdrawn)] = donor
    cases[(None, False)] = DonorFactory(institution=owner_institution)
    for donor in cases.values():
        CellLineFactory(donor=donor, status="released")
    return cases


@pytest.fixture
def callers(request):
    users = {"anonymous": AnonymousUser(), "no_user": None}
    for name in CALLERS[2:]:
        users[name] = request.getfixturevalue(name)
    return users


def _fresh(donor):
    """The donor as a reader would load it (consent joined), not the factory's instance."""
    return Donor.objects.select_related("consent").get(pk=donor.pk)


def test_only_open_unwithdrawn_consent_is_public(donors):
    public = {key for key, donor in donors.items() if genetic_data_is_public(_fresh(donor))}
    assert public == {(GeneticDataSharing.OPEN, False)}
    assert genetic_data_is_public(None) is False


def test_curators_see_every_donors_genetic_data_and_nobody_else_more_than_the_public(donors, callers):
    for (key, donor), (name, user) in itertools.product(donors.items(), callers.items()):
        expected = name == "curator" or key == (GeneticDataSharing.OPEN, False)
        assert may_see_genetic_data(user, _fresh(donor)) is expected, (key, name)
    # A line without a donor has no consent to open its genotype.
    for name, user in callers.items():
        assert may_see_genetic_data(user, None) is (name == "curator"), name


def test_the_q_form_agrees_with_the_python_form_on_donors(donors, callers):
    for name, user in callers.items():
        matched = set(Donor.objects.filter(genetic_data_visible_q(user)).values_list("pk", flat=True))
        for key, donor in donors.items():
            assert (donor.pk in matched) is may_see_genetic_data(user, _fresh(donor)), (key, name)
    public = set(Donor.objects.filter(genetic_data_public_q()).values_list("pk", flat=True))
    assert public == {d.pk for d in donors.values() if genetic_data_is_public(_fresh(d))}


def test_the_q_form_agrees_with_the_python_form_on_lines(donors, callers):
    without_donor = CellLineFactory(donor=None, institution=donors[(None, False)].institution, name="UKBi999-A")
    lines = list(CellLine.objects.select_related("donor__consent"))
    assert without_donor.pk in {line.pk for line in lines}
    for name, user in callers.items():
        matched = set(CellLine.objects.filter(genetic_data_visible_q(user, "donor__")).values_list("pk", flat=True))
        for line in lines:
            assert (line.pk in matched) is may_see_genetic_data(user, line.donor), (line.name, name)


def test_the_sql_form_agrees_with_the_python_form(donors):
    q = connection.ops.quote_name
    sql = (
        f"SELECT d.id FROM {q(Donor._meta.db_table)} d "  # noqa: S608
        f"JOIN {q(Consent._meta.db_table)} c ON c.donor_id = d.id AND {genetic_data_public_sql('c')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        matched = {row[0] for row in cursor.fetchall()}
    assert matched == {d.pk for d in donors.values() if genetic_data_is_public(_fresh(d))}


def test_the_row_form_agrees_with_the_python_form(donors):
    rows = Donor.objects.values_list("pk", "consent__genetic_data", "consent__withdrawn_on")
    by_pk = {pk: consent_is_public(level, withdrawn) for pk, level, withdrawn in rows}
    for key, donor in donors.items():
        assert by_pk[donor.pk] is genetic_data_is_public(_fresh(donor)), key
