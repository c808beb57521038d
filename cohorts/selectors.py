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


def visible_cohort(user: Any, public_id: str, version: int | None = None) -> Cohort | None:
    """The version (default: the latest) of a cohort `user` may see, or None."""
    versions = visible_cohorts(user).filter(public_id=public_id).select_related("owner")
    if version is not None:
        versions = versions.filter(version=version)
    return versions.order_by("-version").first()


def member_rows(cohort: Cohort) -> list[dict]:
    """The cohort's members in order, with the donor facts a screen lays out by
    (pseudonymous code, sex, age at sampling, ancestry)."""
    return [
        {
            "arm": m.arm,
            "role": m.role,
            "line": m.line.name,
            "donor": m.line.donor.code if m.line.donor else "",
            "sex": m.line.donor.sex if m.line.donor else "",
            "age": m.line.donor.age_at_sampling if m.line.donor else None,
            "ancestry": m.line.donor.ancestry if m.line.donor else "",
            "matched_to": m.matched_to,
            "position": m.position,
        }
        for m in cohort.members.select_related("line__donor").order_by("position")
    ]
