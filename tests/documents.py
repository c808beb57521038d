"""Submission documents for tests: a valid base (every rule passes) and small helpers
to break one thing at a time. Shared with the submission pipeline's tests."""

import copy

from lines.submissions.protocol.example import donor, line, qc_panel, str_profile, valid_document

__all__ = [
    "donor",
    "line",
    "qc_panel",
    "str_profile",
    "valid_document",
    "qc_item",
    "rules_of",
    "with_changes",
]


def qc_item(document, test, line_index=0):
    """The first QC record of `test` on a line of `document` (to edit in place)."""
    return next(item for item in document["lines"][line_index]["qc"] if item["test"] == test)


def rules_of(findings, severity=None):
    """The set of rule ids in findings (optionally of one severity)."""
    return {f["rule"] for f in findings if severity is None or f["severity"] == severity}


def with_changes(document, change):
    """A deep copy of `document` after `change(copy)`."""
    changed = copy.deepcopy(document)
    change(changed)
    return changed
