"""The QC panel verdict: which tests a line needs, which it is excused, and how its
records sum up to passed, failed or incomplete.

The one home of the rule. The catalog status (CellLine.qc_status, kept by
refresh_qc_status and set by approval and the demo) and the deposit-time rules
QC-1 and QC-2 (lines.submissions.rules.qc) both call `panel_verdict`, so a line
deposited with a panel the rules accept is `passed` in the catalog, and the other
way round (tests/lines/test_qc.py holds both forms to that).
"""

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar

from django.db.models import Q

CORE_TESTS = (
    "identity",
    "genomic_integrity",
    "mycoplasma",
    "sterility",
    "pluripotency",
    "trilineage",
)
# Non-integrating but persisting vectors must be shown cleared (CIRM release criteria).
VECTOR_METHODS = ("sendai", "episomal")
VECTOR_CLEARANCE = "vector_clearance"
# Not a required record (the donor's screening also counts, see QC-1), but a failed
# or inconclusive one sums up like a core test.
VIRAL_SCREENING = "viral_screening"

PASSED, FAILED, INCOMPLETE = "passed", "failed", "incomplete"
PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"

Key = TypeVar("Key")


class _Line(Protocol):
    reprogramming_method: str
    modification_type: str


class _Record(Protocol):
    test: str
    result: str
    tested_on: date | None


def is_modified(modification_type: str | None) -> bool:
    return modification_type not in (None, "", "none")


def needs_vector_clearance(
    method: str | None, *, modified: bool, vector_methods: Sequence[str] = VECTOR_METHODS
) -> bool:
    """Sendai and episomal vectors persist for passages and must be shown cleared.
    Waiver: a modified line is edited from its parental line, whose clearance is on
    record; the edit brings no reprogramming vector back, so it needs none of its own."""
    return method in vector_methods and not modified


def needs_vector_clearance_q(prefix: str = "") -> Q:
    """The queryset twin of needs_vector_clearance, for counting lines in SQL
    (`prefix` for a relation, e.g. "line__"). tests/lines/test_qc.py checks they agree."""
    unmodified = Q(**{f"{prefix}modification_type__in": ["", "none"]}) | Q(
        **{f"{prefix}modification_type__isnull": True}
    )
    return Q(**{f"{prefix}reprogramming_method__in": list(VECTOR_METHODS)}) & unmodified


def required_panel(
    method: str | None,
    *,
    modified: bool,
    core_tests: Sequence[str] = CORE_TESTS,
    vector_methods: Sequence[str] = VECTOR_METHODS,
) -> list[str]:
    """The tests a line must have on record: the core panel, plus vector clearance
    after Sendai or episomal reprogramming (unless waived, see needs_vector_clearance)."""
    tests = list(core_tests)
    if needs_vector_clearance(method, modified=modified, vector_methods=vector_methods):
        tests.append(VECTOR_CLEARANCE)
    return tests


def required_tests(line: _Line) -> list[str]:
    """required_panel of a catalog line."""
    return required_panel(line.reprogramming_method, modified=is_modified(line.modification_type))


def latest_by_test(entries: Iterable[tuple[Key, Any, date | None]]) -> dict[str, Key]:
    """test → key of its latest-dated record, from (key, test, tested_on) entries; an
    undated record counts as the oldest, and of two on one day the later one given wins."""
    latest: dict[str, tuple[Key, date]] = {}
    for key, test, tested_on in entries:
        if not isinstance(test, str):
            continue
        when = tested_on or date.min
        current = latest.get(test)
        if current is None or when >= current[1]:
            latest[test] = (key, when)
    return {test: key for test, (key, _when) in latest.items()}


@dataclass(frozen=True)
class PanelVerdict:
    required: tuple[str, ...]
    missing: tuple[str, ...]  # required tests without a record
    failed: tuple[str, ...]  # tests whose latest record failed
    inconclusive: tuple[str, ...]  # tests whose latest record is inconclusive

    @property
    def status(self) -> str:
        """failed: the latest record of some test failed; passed: every required test
        has a passing latest record and none is inconclusive; incomplete otherwise."""
        if self.failed:
            return FAILED
        if self.missing or self.inconclusive:
            return INCOMPLETE
        return PASSED


def panel_verdict(
    results: Mapping[str, Any],
    *,
    method: str | None,
    modified: bool,
    core_tests: Sequence[str] = CORE_TESTS,
    vector_methods: Sequence[str] = VECTOR_METHODS,
) -> PanelVerdict:
    """The verdict on a panel from the latest result of each test (test → result)."""
    required = required_panel(method, modified=modified, core_tests=core_tests, vector_methods=vector_methods)
    judged = [*required, VIRAL_SCREENING]
    missing = [t for t in required if t not in results]
    failed = [t for t in judged if t in results and results[t] == FAIL]
    # Anything but a pass on a required test (inconclusive, or an unknown value)
    # leaves the panel incomplete.
    inconclusive = [
        t
        for t in judged
        if t in results and results[t] != FAIL and (results[t] == INCONCLUSIVE or t in required and results[t] != PASS)
    ]
    return PanelVerdict(tuple(required), tuple(missing), tuple(failed), tuple(inconclusive))


def summarise_qc_status(line: _Line, records: Iterable[_Record]) -> str:
    """passed, failed or incomplete for a catalog line and its QC records."""
    latest = latest_by_test((record, record.test, record.tested_on) for record in records)
    return _status({test: record.result for test, record in latest.items()}, line)


def summarise_qc_rows(line: _Line, rows: Iterable[Mapping[str, Any]]) -> str:
    """summarise_qc_status for plain rows {"test", "result", "tested_on"} (the QC records
    an approval writes, before they are model instances)."""
    latest = latest_by_test((row, row["test"], row["tested_on"]) for row in rows)
    return _status({test: row["result"] for test, row in latest.items()}, line)


def _status(results: dict[str, Any], line: _Line) -> str:
    method, modified = line.reprogramming_method, is_modified(line.modification_type)
    try:
        return _cached_status(tuple(sorted(results.items())), method, modified)
    except TypeError:  # an unhashable result value: judged as it is
        return panel_verdict(results, method=method, modified=modified).status


@functools.lru_cache(maxsize=4096)
def _cached_status(results: tuple[tuple[str, Any], ...], method: str | None, modified: bool) -> str:
    """The status of a panel, memoised: the lines of one deposit share a few panels."""
    return panel_verdict(dict(results), method=method, modified=modified).status
