"""Reads of saved cohorts.

`visible_cohorts(user)` is the one answer to "which saved cohorts may this user see":
curators see all; a signed-in user sees their own and the shared ones; anonymous
callers see the shared ones only (what a Beacon `cohorts` entry type may list)."""

from typing import Any

from django.db.models import Q, QuerySet

from cohorts.models import Cohort
from core.roles import is_curator


def visible_cohorts(user: Any) -> QuerySet[Cohort]:
    """The saved cohorts (every version) `user` may see."""
    cohorts = Cohort.objects.all()
    if is_curator(user):
        return cohorts
    if user is None or not user.is_authenticated:
        return cohorts.filter(shared=True)
    return cohorts.filter(Q(owner=user) | Q(shared=True))
