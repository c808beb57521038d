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


def cap_per_rule(findings: list[Finding], limit: int) -> list[Finding]:
    """At most `limit` findings of each rule (the first ones, in document order); the
    rest of a rule is one finding that counts them ("and 999,000 more of QC-1"),
    with `omitted` set so that the report's error and warning counts stay true.
    A million QC rows once stored a million findings and a 285 MB page."""
    kept: list[Finding] = []
    seen: dict[str, int] = {}
    extra: dict[str, Finding] = {}
    for item in findings:
        rule = item.get("rule", "")
        seen[rule] = seen.get(rule, 0) + 1
        if seen[rule] <= limit:
            kept.append(item)
        elif rule in extra:
            extra[rule]["omitted"] += 1
        else:
            extra[rule] = {**finding(rule, "", "", severity=item.get("severity") or "error"), "omitted": 1}
    for rule, summary in extra.items():
        summary["message"] = f"and {summary['omitted']:,} more of {rule} (the first {limit:,} are listed)"
        kept.append(summary)
    return kept
