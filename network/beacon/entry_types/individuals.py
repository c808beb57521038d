"""individuals: the bank's donors (pseudonymous codes), those with a line the caller
may see that matches the query."""

from typing import Any

from donors.models import Donor
from network.beacon.entry_types import EntryType
from network.beacon.entry_types._lines import catalog_url, indexed_counts, lines_matching
from network.beacon.filters import ANCESTRY_CURIES, SEX_CURIES, SEX_LABELS
from network.beacon.request import BeaconQuery

UNKNOWN_SEX = {"id": "NCIT:C17998", "label": "unknown"}


def matches(user: Any, query: BeaconQuery):
    return Donor.objects.filter(pk__in=lines_matching(user, query).values("donor_id")).order_by("code")


def count(user: Any, query: BeaconQuery) -> int:
    """The distinct donors of the matching lines: from the facet index where it can
    answer (the donor ids of the masked lines), else counted in SQL on the lines (one
    pass, by the status-and-donor index) rather than by a second query over the donors."""
    counts = indexed_counts(user, query)
    if counts is not None:
        return counts[1]
    return lines_matching(user, query).filter(donor__isnull=False).order_by().values("donor_id").distinct().count()


def record(donor, user: Any) -> dict:
    curie = SEX_CURIES.get(donor.sex)
    out: dict = {
        "id": donor.code,
        "sex": {"id": curie, "label": SEX_LABELS[curie]} if curie else UNKNOWN_SEX,
    }
    ancestry = ANCESTRY_CURIES.get(donor.ancestry)
    if ancestry:
        out["ethnicity"] = {"id": ancestry, "label": donor.ancestry}
    if donor.disease:
        out["diseases"] = [{"diseaseCode": {"id": donor.disease, "label": donor.disease_label or donor.disease}}]
    out["info"] = {"ageAtSampling": donor.age_at_sampling, "onsetSite": donor.onset_site or None}
    return out


ENTRY_TYPE = EntryType(
    id="individual",
    endpoint="individuals",
    name="Donor",
    ontology_term={"id": "NCIT:C16960", "label": "Patient"},
    schema_name="beacon-individual-v2.0.0",
    schema_path="individuals/defaultSchema.json",
    description="The donors of the bank's lines: pseudonymous codes with sex, ancestry and disease.",
    matches=matches,
    record=record,
    count=count,
    catalog_url=catalog_url,
    filter_scopes=("individual",),
)
