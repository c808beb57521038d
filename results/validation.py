"""Check a deposit against its assay's JSON Schema, then the catalog: located findings
in the submission pipeline's own shape (lines.submissions.rules.findings), never an
exception for bad content.

Rules (rule ids as shown in the report):
- SCHEMA: the assay's schema (results/assays), messages as a submission's.
- RES-LINE: every line named is a catalog line the depositor may see.
- RES-DEPOSIT: the depositor may deposit on it: a line of their institution, or
  one whose vials were shipped to them (curators deposit on any line).
- RES-ROW: a measurement names one of the dataset's lines.
- RES-DUP: a line listed twice.
- RES-DATE: the embargo ends after the work was done; the work is not in the future.
- RES-TEXT: no text holds a NUL character (no database column can store one).
"""

import datetime
from typing import Any

from django.utils import timezone

from lines.models import CellLine
from lines.submissions.rules.findings import Finding, as_date, as_dict, as_list, as_text, finding, pointer
from lines.submissions.rules.schema import validator_findings
from results.assays import validator_of
from results.selectors import depositable_line_ids


def _locals(document):
    measurements = as_list(as_dict(document).get("measurements"))

    def locals_by_path(path):
        if len(path) >= 2 and path[0] == "measurements" and isinstance(path[1], int) and path[1] < len(measurements):
            return as_text(as_dict(measurements[path[1]]).get("line")), None
        return None, None

    return locals_by_path


def validate_deposit(document: Any, assay: str, user: Any) -> list[Finding]:
    """Every finding for a deposit of `assay` by `user`."""
    findings = validator_findings(validator_of(assay), document, _locals(document))
    if not isinstance(document, dict):
        return findings
    lines = as_list(document.get("lines"))
    names = [as_text(as_dict(item).get("line")) for item in lines]
    known = {
        line.name: line.pk
        for line in CellLine.objects.visible_to(user).filter(name__in=[n for n in names if n]).only("pk", "name")
    }
    allowed = depositable_line_ids(user, known.values())
    seen: set[str] = set()
    for index, name in enumerate(names):
        if not name:
            continue
        where = pointer("lines", index, "line")
        if name in seen:
            findings.append(finding("RES-DUP", where, f"{name} is listed twice", line=name, severity="error"))
            continue
        seen.add(name)
        if name not in known:
            findings.append(
                finding("RES-LINE", where, f"{name} is not a catalog line you may see", line=name, severity="error")
            )
        elif known[name] not in allowed:
            findings.append(
                finding(
                    "RES-DEPOSIT",
                    where,
                    f"you may not deposit results on {name}: it is not your institution's line and no vials "
                    "of it were shipped to you",
                    line=name,
                    severity="error",
                )
            )
    for index, row in enumerate(as_list(document.get("measurements"))):
        name = as_text(as_dict(row).get("line"))
        if name and name not in seen:
            findings.append(
                finding(
                    "RES-ROW",
                    pointer("measurements", index, "line"),
                    f"{name} is not one of the dataset's lines ({', '.join(sorted(seen)) or 'none listed'})",
                    line=name,
                    severity="error",
                )
            )
    findings.extend(_date_findings(document))
    findings.extend(_nul_findings(document))
    return findings


def _nul_findings(value, path=()):
    """A finding per text holding NUL (\x00), at its pointer (keys included)."""
    if isinstance(value, str):
        return (
            [finding("RES-TEXT", pointer(*path), "the text holds a NUL character", severity="error")]
            if "\x00" in value
            else []
        )
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in str(key):
                found.append(
                    finding("RES-TEXT", pointer(*path), "a field name holds a NUL character", severity="error")
                )
            found.extend(_nul_findings(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_nul_findings(item, (*path, index)))
    return found


def _date_findings(document):
    performed, embargo = as_date(document.get("performed_on")), as_date(document.get("embargo_until"))
    today = timezone.localdate()
    found = []
    if performed and performed > today:
        found.append(finding("RES-DATE", "/performed_on", f"{performed} is in the future", severity="error"))
    if performed and embargo and embargo <= performed:
        found.append(
            finding(
                "RES-DATE", "/embargo_until", "the embargo must end after the date the work was done", severity="error"
            )
        )
    if embargo and embargo > today + datetime.timedelta(days=3 * 366):
        found.append(
            finding(
                "RES-DATE", "/embargo_until", "an embargo longer than three years needs a curator", severity="warning"
            )
        )
    return found
