"""cohorts: the bank's saved cohorts (cohorts/), as Beacon collections.

Which cohorts a caller may list is cohorts.selectors.visible_cohorts (anonymous
callers: the shared ones). A cohort is described by its definition and size, never
by its members: the lines are asked through biosamples, under their own rules. A
size below settings.BEACON_COUNT_THRESHOLD is left out for anonymous callers, as
counts are."""

from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet

from cohorts.models import Cohort
from cohorts.selectors import visible_cohorts
from network.beacon.entry_types import EntryType
from network.beacon.filters import BeaconFilterError
from network.beacon.request import BeaconQuery


def matches(user: Any, query: BeaconQuery) -> QuerySet[Cohort]:
    if query.filters:
        raise BeaconFilterError("filters: the cohorts endpoint takes no filters (ask biosamples or individuals).")
    return (
        visible_cohorts(user)
        .annotate(donor_count=Count("members__line__donor", distinct=True))
        .order_by("public_id", "-version")
    )


def record(cohort: Cohort, user: Any) -> dict:
    document: dict = {
        "id": f"{settings.BEACON_ID}.{cohort.label}",
        "name": cohort.name,
        "cohortType": "user-defined",
    }
    size = getattr(cohort, "donor_count", None)
    signed_in = user is not None and user.is_authenticated
    if size is not None and (signed_in or size >= settings.BEACON_COUNT_THRESHOLD):
        document["cohortSize"] = size
    return document


ENTRY_TYPE = EntryType(
    id="cohort",
    endpoint="cohorts",
    name="Cohort",
    ontology_term={"id": "NCIT:C61512", "label": "Cohort"},
    schema_name="beacon-cohort-v2.0.0",
    schema_path="cohorts/defaultSchema.json",
    description="Saved cohorts of lines (cohort builder): their definition and size, never their members.",
    matches=matches,
    record=record,
    collection=True,
)
