"""Beacon entry types: each is one module defining ENTRY_TYPE, listed in
settings.BEACON_ENTRY_TYPES. The framework endpoints (configuration, map,
entry_types) and the routes under /api/beacon/v2/<endpoint> list exactly the
registered ones: an entry type that is not listed is neither announced nor
answered (a bank that does not offer saved cohorts leaves out `cohorts`)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from network.beacon.request import BeaconQuery


@dataclass(frozen=True)
class EntryType:
    id: str  # singular, as in Beacon's configuration ("biosample")
    endpoint: str  # the path under /api/beacon/v2/ ("biosamples")
    name: str
    ontology_term: dict
    schema_name: str  # "beacon-biosample-v2.0.0"
    schema_path: str  # under the Beacon default model, e.g. "biosamples/defaultSchema.json"
    description: str
    # (user, query) → the matching rows, visible to the user; raises BeaconFilterError.
    matches: Callable[[Any, BeaconQuery], QuerySet]
    # (row, user) → one record of the default schema, as far as disclosure allows.
    record: Callable[[Any, Any], dict]
    # (user, query) → the catalog page showing the matches, or None.
    catalog_url: Callable[[Any, BeaconQuery], str | None] = field(default=lambda user, query: None)
    # (user, query) → how many match, where that is cheaper than counting `matches`.
    count: Callable[[Any, BeaconQuery], int] | None = None
    collection: bool = False
    filter_scopes: tuple[str, ...] = ()


def registered() -> dict[str, EntryType]:
    """endpoint → entry type, in the order of settings.BEACON_ENTRY_TYPES."""
    out = {}
    for module in settings.BEACON_ENTRY_TYPES:
        entry_type = import_module(module).ENTRY_TYPE
        out[entry_type.endpoint] = entry_type
    return out
