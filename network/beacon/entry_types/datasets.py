"""datasets: the bank's holdings as one dataset, with the data use conditions (DUO)
its donors' consents carry."""

from typing import Any

from django.conf import settings
from django.urls import reverse

from core.models import DuoTerm
from lines.models import CellLine
from network.beacon.entry_types import EntryType
from network.beacon.filters import BeaconFilterError
from network.beacon.request import BeaconQuery

# The DUO release the catalog's vocabulary was loaded from (core vocabulary, duo.owl).
DUO_VERSION = "2021-02-23"


class Holdings:
    """The one dataset: the lines the caller may see."""

    def __init__(self, user: Any):
        self.user = user


def matches(user: Any, query: BeaconQuery) -> list:
    if query.filters:
        raise BeaconFilterError("filters: the datasets endpoint takes no filters (ask biosamples).")
    return [Holdings(user)]


def record(holdings: Holdings, user: Any) -> dict:
    lines = CellLine.objects.visible_to(user)
    codes = (
        DuoTerm.objects.filter(consents__donor__lines__in=lines, consents__withdrawn_on__isnull=True)
        .distinct()
        .order_by("curie")
    )
    return {
        "id": f"{settings.BEACON_ID}.holdings",
        "name": f"{settings.PRISM_BANK_NAME}: iPSC lines",
        "description": "Patient-derived and control iPSC lines held by the bank, with their donors' consent.",
        "externalUrl": reverse("catalog"),
        "dataUseConditions": {
            "duoDataUse": [{"id": term.curie, "label": term.label, "version": DUO_VERSION} for term in codes]
        },
    }


ENTRY_TYPE = EntryType(
    id="dataset",
    endpoint="datasets",
    name="Dataset",
    ontology_term={"id": "NCIT:C47824", "label": "Data set"},
    schema_name="beacon-dataset-v2.0.0",
    schema_path="datasets/defaultSchema.json",
    description="The bank's holdings, with the DUO data use conditions of their consents.",
    matches=matches,
    record=record,
    collection=True,
)
