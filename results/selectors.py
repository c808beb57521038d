"""Reads of results that decide or aggregate: who may deposit on which lines, the
datasets whose numbers a user may see, per-line values of a readout, and the
groups a line falls in for a subgroup comparison."""

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.roles import depositing_institution, is_curator
from distribution.models import Shipment
from donors.disclosure import may_see_genetic_data, results_shared_q
from donors.models import Classification, VariantOrigin
from lines.models import CellLine
from lines.models.catalog import ModificationType
from results.comparison import compare_groups, compare_pairs
from results.models import Dataset, DatasetStatus, DoseResponseFit, FitStatus, Measurement

# Variants that put a line in a gene's group (a benign or uncertain variant does not).
CAUSAL = (Classification.PATHOGENIC, Classification.LIKELY_PATHOGENIC, Classification.RISK_FACTOR, "")
GROUPINGS = {
    "gene": "Gene",
    "variant": "Variant",
    "subtype": "Disease subtype",
    "sex": "Sex",
    "onset_site": "Site of onset",
    "isogenic_pair": "Isogenic pair",
}
CONTROL = "control"
UNDISCLOSED = "genotype not disclosed"


def depositable_line_ids(user: Any, line_ids: Iterable[int]) -> set[int]:
    """Of `line_ids`, the lines `user` may deposit results on: every line for a curator,
    their institution's lines for a depositor, and lines whose vials were shipped to them."""
    ids = set(line_ids)
    if not ids or user is None or not user.is_authenticated:
        return set()
    if is_curator(user):
        return ids
    allowed: set[int] = set(
        Shipment.objects.filter(request__requester=user, line_id__in=ids).values_list("line_id", flat=True)
    )
    institution = depositing_institution(user)
    if institution is not None:
        allowed |= set(CellLine.objects.filter(pk__in=ids, institution=institution).values_list("pk", flat=True))
    return allowed


def datasets_with_data_for(user: Any) -> QuerySet[Dataset]:
    """Released datasets whose numbers `user` may see: visible, and past their embargo
    unless the user is a curator or of the depositing institution."""
    today = timezone.localdate()
    open_now = Q(embargo_until__isnull=True) | Q(embargo_until__lte=today)
    privileged = results_shared_q(user)
    if user is not None and user.is_authenticated:
        privileged |= Q(depositor=user)
    return Dataset.objects.visible_to(user).filter(status=DatasetStatus.RELEASED).filter(open_now | privileged)


@dataclass(frozen=True)
class Readout:
    """What a comparison compares: an assay's readout (median per line of untreated
    values, at each dataset's latest time point) or a compound's EC50 (geometric mean
    of the fitted EC50s per line, µM)."""

    key: str
    label: str
    unit: str


def readouts_for(user: Any) -> list[Readout]:
    """The readouts with data the user may see, for the comparison's choice."""
    datasets = datasets_with_data_for(user)
    found = [
        Readout(f"ec50:{compound}", f"EC50 of {compound}", "µM")
        for compound in DoseResponseFit.objects.filter(dataset__in=datasets, status=FitStatus.FITTED)
        .order_by("compound")
        .values_list("compound", flat=True)
        .distinct()
    ]
    rows = (
        Measurement.objects.filter(dataset__in=datasets, compound="")
        .exclude(dataset__assay="dose_response")
        .order_by("dataset__assay", "readout", "unit")
        .values_list("dataset__assay", "readout", "unit")
        .distinct()
    )
    found += [
        Readout(f"{assay}:{readout}", f"{readout} ({assay.replace('_', ' ')})", unit) for assay, readout, unit in rows
    ]
    return found


def line_values(user: Any, readout_key: str) -> tuple[Readout | None, dict[int, float]]:
    """Per line id, the value of the readout over the datasets the user may see."""
    if "\x00" in readout_key:
        return None, {}  # no readout holds one (and PostgreSQL refuses it in a query)
    datasets = datasets_with_data_for(user)
    if readout_key.startswith("ec50:"):
        compound = readout_key[5:]
        per_line: dict[int, list[float]] = defaultdict(list)
        for line_id, ec50 in DoseResponseFit.objects.filter(
            dataset__in=datasets, compound=compound, status=FitStatus.FITTED
        ).values_list("line_id", "ec50_um"):
            if ec50 is not None:
                per_line[line_id].append(ec50)
        values = {k: math.exp(statistics.fmean(math.log(v) for v in vs)) for k, vs in per_line.items()}
        return (Readout(readout_key, f"EC50 of {compound}", "µM") if values else None), values
    assay, _, name = readout_key.partition(":")
    rows = list(
        Measurement.objects.filter(dataset__in=datasets, dataset__assay=assay, readout=name, compound="").values_list(
            "dataset_id", "line_id", "time_point", "value", "unit"
        )
    )
    if not rows:
        return None, {}
    latest: dict[int, float] = {}
    for dataset_id, _line, time_point, _v, _u in rows:
        if time_point is not None:
            latest[dataset_id] = max(latest.get(dataset_id, time_point), time_point)
    by_line: dict[int, list[float]] = defaultdict(list)
    for dataset_id, line_id, time_point, value, _unit in rows:
        if dataset_id in latest and time_point != latest[dataset_id]:
            continue
        by_line[line_id].append(value)
    readout = Readout(readout_key, f"{name} ({assay.replace('_', ' ')})", rows[0][4])
    return readout, {k: statistics.median(vs) for k, vs in by_line.items()}


def _genotype(line, user):
    """(gene group, variant group) of a line as `user` may see it."""
    if line.modification_type == ModificationType.GENE_CORRECTION:
        return "corrected (isogenic control)", "corrected (isogenic control)"
    engineered = [v for v in line.variants.all() if v.origin == VariantOrigin.ENGINEERED]
    donor = line.donor
    germline = []
    if donor is not None:
        if not may_see_genetic_data(user, donor):
            return UNDISCLOSED, UNDISCLOSED
        germline = [v for v in donor.variants.all() if v.classification in CAUSAL]
    variants = [*germline, *engineered]
    if variants:
        genes = " + ".join(sorted({v.gene for v in variants}))
        names = " + ".join(sorted(f"{v.gene} {v.legacy_name or v.protein or v.hgvs}".strip() for v in variants))
        return genes, names
    if donor is not None and donor.is_healthy_control:
        return CONTROL, CONTROL
    return "no known causal variant", "no known causal variant"


def line_groups(user: Any, line_ids: Iterable[int], grouping: str) -> dict[int, str]:
    """Per line id, the group it falls in under `grouping` (one of GROUPINGS but isogenic_pair)."""
    lines = (
        CellLine.objects.filter(pk__in=list(line_ids))
        .select_related("donor__consent")
        .prefetch_related("variants", "donor__variants")
    )
    groups = {}
    for line in lines:
        donor = line.donor
        if grouping in ("gene", "variant"):
            gene, variant = _genotype(line, user)
            groups[line.pk] = gene if grouping == "gene" else variant
        elif grouping == "subtype":
            groups[line.pk] = (donor.disease_label or donor.disease or CONTROL) if donor else "no donor"
        elif grouping == "sex":
            groups[line.pk] = donor.get_sex_display() if donor else "no donor"
        elif grouping == "onset_site":
            groups[line.pk] = (donor.get_onset_site_display() or "not recorded") if donor else "no donor"
    return groups


def isogenic_pairs(line_ids: Iterable[int]) -> list[tuple[CellLine, CellLine]]:
    """(parental line, edited or corrected subclone) pairs among these lines."""
    ids = set(line_ids)
    children = CellLine.objects.filter(pk__in=ids, parental_line_id__in=ids).select_related("parental_line")
    return [(child.parental_line, child) for child in children.order_by("name") if child.parental_line is not None]


def line_names(line_ids: Iterable[int]) -> dict[int, str]:
    return dict(CellLine.objects.filter(pk__in=list(line_ids)).values_list("pk", "name"))


def datasets_of_line(line: CellLine, user: Any) -> QuerySet[Dataset]:
    """Datasets on this line the user may see (metadata at least), newest first."""
    return Dataset.objects.visible_to(user).filter(line_items__line=line).distinct().order_by("-created_at")


def subgroup_comparison(
    user: Any, readout_key: str, grouping: str, only_groups: Iterable[str] = ()
) -> dict[str, Any] | None:
    """The comparison of one readout across groups of lines, as the API and the page show it;
    None when the readout has no data the user may see."""
    readout, values = line_values(user, readout_key)
    if readout is None:
        return None
    names = line_names(values)
    answer: dict[str, Any] = {
        "readout": {"key": readout.key, "label": readout.label, "unit": readout.unit},
        "grouping": grouping,
        "grouping_label": GROUPINGS[grouping],
        "minimum_group_size": settings.RESULTS_MIN_GROUP_SIZE,
    }
    if grouping == "isogenic_pair":
        pairs = [
            (parent.name, child.name, values[parent.pk], values[child.pk]) for parent, child in isogenic_pairs(values)
        ]
        answer.update(compare_pairs(pairs))
        return answer
    groups = line_groups(user, values, grouping)
    wanted = {g for g in only_groups if g}
    if wanted:
        groups = {k: g for k, g in groups.items() if g in wanted}
    answer.update(compare_groups(values, groups, names))
    return answer
