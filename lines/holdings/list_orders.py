"""The line list's orders for the facet index (lines.holdings.facet_index): each
single-key ordering of /api/v1/lines/ as row positions, read with the list's own
ORDER BY (core.api.keyset_order), so collation, nulls and id tie-breaks are the
database's. With the filters' mask they give a page's ids at any number of matching
lines (parity: tests/lines/holdings/test_list_from_index.py)."""

import numpy as np
from django.db import connection

from core.api import keyset_order, resolve_field
from lines.holdings.filters import line_keysets
from lines.models import CellLine


def _ids(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


class ListOrders:
    """The orders of the lines whose sorted primary keys are `ids` (the index's rows)."""

    def __init__(self, ids):
        self.ids = ids
        self.size = len(ids)
        self.orders = {keys: self._order(keys) for keys in line_keysets()}
        self._ranks = {}

    def _order(self, keys):
        """Row positions in the list's order for `keys`, read with the list's own ORDER BY
        (core.api.keyset_order), so collation, nulls and ties are the database's."""
        fields = [resolve_field(CellLine, path) for path, _ in keys]
        wanted = np.array(
            _ids(CellLine.objects.order_by(*keyset_order(keys, fields)).values_list("pk")), dtype=np.int64
        )
        positions = np.searchsorted(self.ids, wanted)
        # A line added since the columns were read is left out (the version changed:
        # this index answers no request after it).
        found = (positions < self.size) & (self.ids[np.minimum(positions, max(self.size - 1, 0))] == wanted)
        return positions[found]

    def _rank(self, keys):
        """Each row position's place in the order of `keys` (-1: not in it)."""
        rank = self._ranks.get(keys)
        if rank is None:
            order = self.orders[keys]
            rank = np.full(self.size, -1, dtype=np.int64)
            rank[order] = np.arange(len(order))
            self._ranks[keys] = rank
        return rank

    def _cursor_place(self, keys, values):
        """Where the cursor's row stands in the order of `keys`, or None where the index
        cannot tell (the row is gone or its sort values changed: SQL answers)."""
        paths = [path for path, _ in keys]
        unique = paths[-1]
        if unique == "pk":
            found = list(CellLine.objects.filter(pk=values[-1]).values_list("pk", *paths[:-1]))
        else:
            found = list(CellLine.objects.filter(**{unique: values[-1]}).values_list("pk", *paths[:-1]))
        if not found or list(found[0][1:]) != list(values[:-1]):
            return None
        position = int(np.searchsorted(self.ids, found[0][0]))
        if position >= self.size or self.ids[position] != found[0][0]:
            return None
        place = int(self._rank(keys)[position])
        return None if place < 0 else place

    def ranked(self, mask, keys, after, limit):
        """The ids of the first `limit` lines of `mask` in the list order `keys`, past the
        cursor `after` (None, or (backwards, values): then walking back from it), as
        KeysetPagination's query returns them; None for an ordering the index lacks."""
        keys = tuple(tuple(key) for key in keys)
        order = self.orders.get(keys)
        if order is None:
            return None
        if after is not None:
            backwards, values = after
            place = self._cursor_place(keys, values)
            if place is None:
                return None
            order = order[:place][::-1] if backwards else order[place + 1 :]
        hits = []
        # In slices, so a page of a broad filter reads a few thousand positions, not all.
        step = max(4 * limit, 4096)
        for start in range(0, len(order), step):
            chunk = order[start : start + step]
            hits.extend(chunk[mask[chunk]][: limit - len(hits)].tolist())
            if len(hits) >= limit:
                break
        return self.ids[hits].tolist() if hits else []
