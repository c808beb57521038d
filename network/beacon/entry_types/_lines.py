"""The lines a Beacon query matches: its filters as the catalog's own line filters
(lines.holdings.filters.CellLineFilter) over CellLine.objects.visible_to(user), and
their counts, from the facet index where it can answer (indexed_counts)."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import reverse
from rest_framework.exceptions import ValidationError

from lines.holdings.facet_index import line_and_donor_counts, variant_holders
from lines.holdings.filters import CellLineFilter
from lines.models import CellLine
from network.beacon.filters import BeaconFilterError, to_catalog_params
from network.beacon.request import BeaconQuery


@dataclass
class _Caller:
    user: Any


def _errors(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in detail.items())
    return str(detail)


def params_of(query: BeaconQuery) -> dict[str, list[str]]:
    return to_catalog_params(query.filters)


def _filterset(user: Any, query: BeaconQuery) -> CellLineFilter:
    data = QueryDict(mutable=True)
    for name, values in params_of(query).items():
        data.setlist(name, values)
    filterset = CellLineFilter(data, queryset=CellLine.objects.visible_to(user), request=_Caller(user))
    if not filterset.is_valid():
        raise BeaconFilterError(f"filters: {_errors(filterset.errors.get_json_data())}")
    return filterset


def lines_matching(user: Any, query: BeaconQuery) -> QuerySet:
    try:
        return _filterset(user, query).qs
    except ValidationError as error:
        raise BeaconFilterError(f"filters: {_errors(error.detail)}") from error


def indexed_counts(user: Any, query: BeaconQuery) -> tuple[int, int] | None:
    """(matching lines, their distinct donors) from the facet index, where it is built at
    the committed catalog version and holds every filter of the query (the catalog's own
    filter→mask rules, lines.holdings.facet_index); None: count in SQL."""
    try:
        return line_and_donor_counts(_filterset(user, query))
    except ValidationError as error:
        raise BeaconFilterError(f"filters: {_errors(error.detail)}") from error


def indexed_variant_holders(user: Any, query: BeaconQuery):
    """The matching lines and the donors whose germline variants the caller may count,
    from the facet index (lines.holdings.facet_index.variant_holders); None: SQL answers."""
    try:
        return variant_holders(_filterset(user, query))
    except ValidationError as error:
        raise BeaconFilterError(f"filters: {_errors(error.detail)}") from error


def catalog_url(user: Any, query: BeaconQuery) -> str:
    """The /lines/ page at the same filters (relative; the view makes it absolute)."""
    params = params_of(query)
    return reverse("catalog") + (f"?{urlencode(params, doseq=True)}" if params else "")
