"""A finding, its location, and the readers every rule uses on a document that may
hold anything (they never raise: a value of the wrong type reads as absent)."""

import re
from datetime import date
from typing import Any

from lines.submissions.protocol import SEVERITY

MONDO_RE = re.compile(r"^MONDO:\d{7}$")
DUO_RE = re.compile(r"^DUO:\d{7}$")

Finding = dict[str, Any]


def pointer(*parts: Any) -> str:
    """JSON pointer (RFC 6901) from path parts."""
    if not parts:
        return ""
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def finding(
    rule: str,
    location: str,
    message: str,
    *,
    line: str | None = None,
    donor: str | None = None,
    severity: str | None = None,
) -> Finding:
    return {
        "rule": rule,
        "severity": severity or SEVERITY[rule],
        "location": location,
        "message": message,
        "line": line,
        "donor": donor,
    }


def as_text(value):
    return value if isinstance(value, str) else None


def as_dict(value):
    return value if isinstance(value, dict) else {}


def as_list(value):
    return value if isinstance(value, list) else []


def as_int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def as_date(value):
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
