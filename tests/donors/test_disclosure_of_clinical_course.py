"""donors.disclosure, clinical course: it follows the donor's consent like genetic
data, in its Python and Q forms, which agree for every consent case and caller."""

import datetime
import itertools

import pytest
from django.contrib.auth.models import AnonymousUser

from donors.disclosure import clinical_course_is_public, clinical_course_visible_q, may_see_clinical_course
from donors.models import Donor, GeneticDataSharing
from lines.models import CellLine
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory

pytestmark = pytest.mark.django_db

CALLERS = ("researcher", "institution_researcher", "depositor", "other_depositor", "curator")


@pytest.fixture
def donors(owner_institution):
    cases = {}
    for level, withdrawn in itertools.product(GeneticDataSharing.values, (False, True)):
        donor = DonorFactory(institution=owner_institution)
        ConsentFactory(donor=donor, genetic_data=level, withdrawn_on=datetime.date(2025, 2, 1) if withdrawn else None)
        cases[(level, withdrawn)] = donor
    cases[(None, False)] = DonorFactory(institution=owner_institution)
    for donor in cases.values():
        CellLineFactory(donor=donor, status="released")
    return cases


@pytest.fixture
def callers(request):
    users = {"anonymous": AnonymousUser(), "no_user": None}
    users.update({name: request.getfixturevalue(name) for name in CALLERS})
    return users


def test_only_curators_see_a_course_the_consent_does_not_open(donors, callers):
    for (key, donor), (name, user) in itertools.product(donors.items(), callers.items()):
        fresh = Donor.objects.select_related("consent").get(pk=donor.pk)
        expected = name == "curator" or key == (GeneticDataSharing.OPEN, False)
        assert may_see_clinical_course(user, fresh) is expected, (key, name)
        assert clinical_course_is_public(fresh) is (key == (GeneticDataSharing.OPEN, False))


def test_the_q_form_agrees_with_the_python_form(donors, callers):
    for name, user in callers.items():
        on_donors = set(Donor.objects.filter(clinical_course_visible_q(user)).values_list("pk", flat=True))
        on_lines = set(CellLine.objects.filter(clinical_course_visible_q(user, "donor__")).values_list("pk", flat=True))
        for line in CellLine.objects.select_related("donor__consent"):
            allowed = may_see_clinical_course(user, line.donor)
            assert (line.donor_id in on_donors) is allowed, name
            assert (line.pk in on_lines) is allowed, name
