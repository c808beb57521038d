"""Check a submission document against its protocol version: the JSON Schema, then the rules.

`validate_document` returns findings; it never raises on a malformed document.
Each finding is a dict:

    {"rule": "QC-3", "severity": "error" | "warning",
     "location": "/lines/3/qc/4/markers/1/percent_positive",   # JSON pointer
     "message": "...", "line": "L4" | None, "donor": "D2" | None}

Rule ids, severities and wording come from the rule table in lines.submissions.protocol;
thresholds come from the ProtocolVersion row the submission names. The rules
themselves live in lines.submissions.rules, one module per family; this module
runs them in order.

Speed: the whole document must check in a small multiple of the JSON Schema pass
alone (10,000 lines). So the catalog is read up front in a handful of set-based
queries (names, donors, parental lines, vocabularies, STR holdings) and the
rules are dictionary look-ups; nothing queries the database per line. The
compiled schema validator is cached per protocol version.
"""

from collections.abc import Callable
from typing import Any

from core.models import Institution
from lines.models import ProtocolVersion
from lines.submissions.rules import consent, course, donors, lots, names, qc, references, variants
from lines.submissions.rules import lines as line_rules
from lines.submissions.rules.context import Context
from lines.submissions.rules.findings import Finding
from lines.submissions.rules.schema import schema_findings, schema_validator
from lines.submissions.rules.str_identity import IdentityChecks, check_donor_profile

__all__ = ["PROGRESS_EVERY_LINES", "schema_validator", "validate_document"]

PROGRESS_EVERY_LINES = 200

Progress = Callable[[int, int], Any]


def validate_document(
    document: Any,
    *,
    protocol: ProtocolVersion,
    institution: Institution | None,
    on_progress: Progress | None = None,
    user: Any = None,
) -> list[Finding]:
    """Every finding for `document` under `protocol` (a lines.models.ProtocolVersion),
    deposited by `institution` (prism.Institution). on_progress(done, total) is called
    as lines are checked. Never raises on malformed input: problems become findings.

    `user` is the depositor: the document's references to catalog donors and lines
    resolve only against what that user may see (None: what anyone may see)."""
    ctx = Context(document, protocol=protocol, institution=institution, user=user)
    ctx.findings.extend(schema_findings(document, protocol, ctx.locals_by_path))
    if not isinstance(document, dict):
        return ctx.findings

    def progress(done, total):
        if on_progress is not None:
            on_progress(done, total)

    total = len(ctx.lines)
    progress(0, total)
    ctx.read_catalog()
    references.check_references(ctx)
    for index, donor in ctx.donor_items:
        donors.check_donor(ctx, index, donor)
        variants.check_donor_variants(ctx, index, donor)
        consent.check_consent(ctx, index, donor)
        check_donor_profile(ctx, index, donor)
    course.check_courses(ctx)
    names.check_donor_numbers(ctx)
    identity = IdentityChecks(ctx)
    seen_vials: dict = {}
    for position, (index, line) in enumerate(ctx.line_items, start=1):
        view = ctx.line_view(index, line)
        consent.check_catalog_donor_consent(ctx, view)
        line_rules.check_line(ctx, view)
        names.check_name(ctx, view)
        variants.check_line_edit(ctx, view)
        qc.check_qc(ctx, view)
        lots.check_lots(ctx, view, seen_vials)
        identity.check_line(view)
        if position % PROGRESS_EVERY_LINES == 0:
            progress(position, total)
    identity.check_holdings()
    progress(total, total)
    return ctx.findings
