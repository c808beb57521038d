"""biosamples: the bank's cell lines. A line is a biosample whose sampleOriginType is
a cell line; its lots (where the inventory has landed) are listed in `info`."""

from typing import Any

from django.db.models import Prefetch

from lines.holdings.representation import line_links
from network.beacon.entry_types import EntryType
from network.beacon.entry_types._lines import catalog_url, indexed_counts, lines_matching
from network.beacon.filters import SEX_LABELS
from network.beacon.request import BeaconQuery
from stock.models import Lot, LotStatus

CELL_LINE = {"id": "EFO:0000322", "label": "cell line"}
ABNORMAL = {"id": "EFO:0009655", "label": "abnormal sample"}
REFERENCE = {"id": "EFO:0009654", "label": "reference sample"}


def matches(user: Any, query: BeaconQuery):
    return (
        lines_matching(user, query)
        .select_related("donor", "institution")
        .prefetch_related(
            Prefetch("lots", queryset=Lot.objects.filter(status=LotStatus.RELEASED).order_by("code"), to_attr="landed")
        )
        .order_by("name")
    )


def count(user: Any, query: BeaconQuery) -> int:
    """The matching lines: from the facet index where it can answer, else in SQL."""
    counts = indexed_counts(user, query)
    return counts[0] if counts is not None else lines_matching(user, query).count()


def record(line, user: Any) -> dict:
    donor = line.donor
    links = line_links(line)
    out: dict = {
        "id": line.name,
        "biosampleStatus": ABNORMAL if donor is not None and donor.disease else REFERENCE,
        "sampleOriginType": CELL_LINE,
        "info": {
            "institution": line.institution.code if line.institution_id else None,
            "availability": line.availability,
            "rrid": links["rrid"],
            "lots": [{"code": lot.code, "accession": lot.accession} for lot in getattr(line, "landed", [])],
        },
    }
    if line.source_cell_type:
        out["sampleOriginDetail"] = {"id": line.source_cell_type, "label": line.source_cell_type_label or ""}
    if donor is not None:
        out["individualId"] = donor.code
        if donor.disease:
            out["histologicalDiagnosis"] = {"id": donor.disease, "label": donor.disease_label or donor.disease}
    if donor is not None and donor.sex in SEX_LABELS.values():
        out["info"]["donorSex"] = donor.sex
    return out


ENTRY_TYPE = EntryType(
    id="biosample",
    endpoint="biosamples",
    name="Cell line",
    ontology_term={"id": "EFO:0000322", "label": "cell line"},
    schema_name="beacon-biosample-v2.0.0",
    schema_path="biosamples/defaultSchema.json",
    description="The bank's iPSC lines (a cell line is the biosample), with their released lots.",
    matches=matches,
    record=record,
    count=count,
    catalog_url=catalog_url,
    filter_scopes=("biosample", "individual"),
)
