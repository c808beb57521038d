"""A hot statement run as a prepared statement of the connection (PostgreSQL only):
parsed and planned once per connection instead of on every call. For statements
whose planning costs as much as their execution (the reservation's claim, planned
in 0.55 ms and run in 0.8 ms); everything else goes through the ORM as usual.

The statement is named after its text, so each variant (with or without a lot, say)
is prepared once. The names prepared are remembered on the connection wrapper and
forgotten when it connects anew (a prepared statement lives as long as the
database session, whatever its transactions do).
"""

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from django.db.backends.signals import connection_created
from django.db.backends.utils import CursorWrapper

_NAMED = re.compile(r"%\((\w+)\)s")
_PREPARED = "_prism_prepared"


def execute_prepared(cursor: CursorWrapper, sql: str, params: Mapping[str, Any]) -> None:
    """Execute `sql` (named `%(name)s` parameters) with `params`, preparing it on
    this connection first if it is not yet. Inside a transaction (atomic)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    text = _NAMED.sub(number, sql)
    name = "prism_" + hashlib.sha256(text.encode()).hexdigest()[:24]
    prepared: set[str] = cursor.db.__dict__.setdefault(_PREPARED, set())
    if name not in prepared:
        cursor.execute(f"PREPARE {name} AS {text}")
        prepared.add(name)
    marks = f" ({', '.join(['%s'] * len(names))})" if names else ""
    # The plan made for any parameters: PostgreSQL would otherwise go on planning for
    # each call's values (their plans look cheaper to it), which is the cost saved.
    # For the rest of this transaction only, and only prepared statements heed it
    # (the ORM prepares none); sent with the EXECUTE, in the same round trip.
    cursor.execute(f"SET LOCAL plan_cache_mode = force_generic_plan; EXECUTE {name}{marks}", [params[n] for n in names])


def _forget_prepared(sender: Any, connection: Any, **kwargs: Any) -> None:
    connection.__dict__.pop(_PREPARED, None)


connection_created.connect(_forget_prepared, dispatch_uid="core.prepared.forget")
