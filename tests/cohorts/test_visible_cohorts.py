"""cohorts.selectors.visible_cohorts: curators see every saved cohort; a signed-in
user their own and the shared ones; anonymous callers the shared ones only."""

import pytest
from django.contrib.auth.models import AnonymousUser

from cohorts.selectors import visible_cohorts
from tests.factories import CohortFactory

pytestmark = pytest.mark.django_db


def test_each_caller_sees_what_they_may(researcher, depositor, other_depositor, curator):
    own = CohortFactory(owner=researcher)
    own_v2 = CohortFactory(owner=researcher, public_id=own.public_id, version=2)
    shared = CohortFactory(owner=depositor, shared=True)
    private = CohortFactory(owner=depositor)
    seen = {
        "anonymous": AnonymousUser(),
        "researcher": researcher,
        "own depositor": depositor,
        "other depositor": other_depositor,
        "curator": curator,
    }
    expected = {
        "anonymous": {shared},
        "researcher": {own, own_v2, shared},
        "own depositor": {shared, private},
        "other depositor": {shared},
        "curator": {own, own_v2, shared, private},
    }
    for name, user in seen.items():
        assert set(visible_cohorts(user)) == expected[name], name
