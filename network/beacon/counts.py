"""How many records an entry type matches for a caller. Anonymous callers all see the
same catalog, so their counts are kept in the shared cache keyed on the catalog
version (core.catalog_version.cached): a repeated question costs one read, and any
write to the catalog changes the key, so no count outlives the data it was read from.
Signed-in callers' counts depend on who they are and are counted afresh."""

import json
from typing import Any

from core.catalog_version import cached
from network.beacon.entry_types import EntryType
from network.beacon.request import BeaconQuery


def _count(entry_type: EntryType, user: Any, query: BeaconQuery) -> int:
    if entry_type.count is not None:
        return entry_type.count(user, query)
    rows = entry_type.matches(user, query)
    return len(rows) if isinstance(rows, list) else rows.count()


def count(entry_type: EntryType, user: Any, query: BeaconQuery) -> int:
    """How many records of `entry_type` match `query` for `user`. A cached answer costs
    no query but the version's: the filters are not even parsed into SQL."""
    if entry_type.collection or (user is not None and user.is_authenticated):
        return _count(entry_type, user, query)
    question = json.dumps([entry_type.endpoint, query.filters, query.request_parameters], sort_keys=True, default=str)
    return cached("prism:beacon:count", question, lambda: _count(entry_type, user, query))
