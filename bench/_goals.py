"""The goals of issues 13, 15, 16 and 17, each printed with its figure, met / not met, the previous
release's figure (bench/previous.json) and the ratio to its floor or lower bound.

A suite calls `report(write, key, figure, floor=...)` where it measured the figure;
the line is printed at once and, when `python -m bench` runs (it sets
PRISM_BENCH_GOALS_FILE, inherited by the suites' child processes), appended to a
file that `summary(write)` prints as one table at the end of the run.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

PREVIOUS_FILE = Path(__file__).resolve().parent / "previous.json"
GOALS_FILE_VARIABLE = "PRISM_BENCH_GOALS_FILE"


@dataclass(frozen=True)
class Goal:
    measure: str
    unit: str
    limit: float
    at_least: bool = False  # the figure must be >= limit (else <=)
    floor_name: str = "floor"  # what `floor` is: an SQL floor, a NumPy lower bound, ...
    floor_limit: float | None = None  # the ratio figure / floor must be <= this (>= when at_least)
    # The issue that set the goal (previous.json gives each goal its "before" figure,
    # null where the earlier release did not measure it).
    issue: int = 17

    def text(self):
        sign = "≥" if self.at_least else "≤"
        extra = ""
        if self.floor_limit is not None:
            extra = f", {'≥' if self.at_least else '≤'} {self.floor_limit:g}x {self.floor_name}"
        return f"{sign} {self.limit:g} {self.unit}{extra}"


GOALS = {
    "facets": Goal("facet counts, uncached (worst filter)", "ms", 40, floor_name="NumPy bound", floor_limit=10),
    "filtered_lists": Goal("filtered lists (worst of the bench set)", "ms", 30, floor_name="SQL floor"),
    "load_rps": Goal("32 clients, six requests: throughput", "req/s", 150, at_least=True),
    "load_p95": Goal("32 clients, six requests: p95 latency", "ms", 300),
    "load_errors": Goal("32 clients, six requests: errors", "", 0),
    "catalog_page": Goal("catalog page, uncached", "ms", 150),
    "home_page": Goal("home page, uncached", "ms", 150),
    "curator_dashboard": Goal("curator dashboard, uncached", "ms", 150),
    # Warm: the same pages from the shared cache (same version): no goal of the issue's
    # own, held to the same limit so a cache that stopped paying shows.
    "catalog_page_warm": Goal("catalog page, cached (median)", "ms", 150),
    "home_page_warm": Goal("home page, cached (median)", "ms", 150),
    "curator_dashboard_warm": Goal("curator dashboard, cached (median)", "ms", 150),
    "validation": Goal("10,000-line validation, whole", "s", 1.5),
    "approval": Goal("10,000-line approval", "s", 4),
    "approval_rows": Goal("10,000-line approval: rows written", "rows/s", 20_000, at_least=True),
    "str_search": Goal("STR search, median", "ms", 10),
    "str_vs_scan": Goal("STR search: speed-up over the plain scan", "x", 500, at_least=True),
    "cohort_build": Goal("three-arm cohort with matching (builder)", "ms", 1000, issue=15),
    "stock_receiving": Goal("receiving 100,000 vials by CSV", "vials/s", 20_000, at_least=True, issue=13),
    "stock_reserving": Goal("reserving vials, 1,000 requests (mean)", "ms", 5, issue=13),
    "beacon_counts": Goal("Beacon count queries, uncached (worst median)", "ms", 100, issue=16),
    "beacon_counts_warm": Goal("Beacon count queries, cached (worst median)", "ms", 100, issue=16),
    "federation_overhead": Goal("federated query: over the slowest healthy peer", "ms", 50, issue=16),
    "federation_dead_peer": Goal("federated query: dead peer asked per cache period", "times", 1, issue=16),
    "str_vs_strprofiler": Goal("STR search: speed-up over STRprofiler", "x", 2_000, at_least=True),
}


def issues_text():
    """The issues whose goals this table holds, in words: "13, 15, 16 and 17"."""
    numbers = [str(n) for n in sorted({goal.issue for goal in GOALS.values()})]
    return numbers[0] if len(numbers) == 1 else f"{', '.join(numbers[:-1])} and {numbers[-1]}"


def previous():
    with PREVIOUS_FILE.open() as handle:
        return json.load(handle)


def _met(goal, figure, ratio):
    met = figure >= goal.limit if goal.at_least else figure <= goal.limit
    if goal.floor_limit is not None and ratio is not None:
        met = met and (ratio >= goal.floor_limit if goal.at_least else ratio <= goal.floor_limit)
    return met


def _line(key, figure, floor, note, quick):
    goal = GOALS[key]
    ratio = figure / floor if floor else None
    before = previous().get(key)
    verdict = "met" if _met(goal, figure, ratio) else "NOT MET"
    if quick:
        verdict += " (quick sizes)"
    return (
        f"{goal.measure:44} {figure:10,.1f} {goal.unit:6} {goal.text():28} {verdict:22} "
        f"{'–' if before is None else f'{before:,g}':>8} "
        f"{'–' if ratio is None else f'{ratio:.1f}x {goal.floor_name}':>18}"
        f"{f'  ({note})' if note else ''}"
    )


HEADER = f"{'goal':44} {'figure':>10} {'unit':6} {'target':28} {'met?':22} {'previous':>8} {'ratio to floor':>18}"


def report(write, key, figure, floor=None, note="", quick=False):
    """Print the goal `key` with its figure (and append it to the run's goals file)."""
    write("goal: " + _line(key, figure, floor, note, quick))
    path = os.environ.get(GOALS_FILE_VARIABLE)
    if path:
        with open(path, "a") as handle:
            handle.write(json.dumps([key, figure, floor, note, quick]) + "\n")


def summary(write, path):
    """The goals table of the whole run, in the order of GOALS; goals not measured say so."""
    measured = {}
    if os.path.exists(path):
        with open(path) as handle:
            for row in handle:
                key, figure, floor, note, quick = json.loads(row)
                measured[key] = (figure, floor, note, quick)
    write(HEADER)
    for key, goal in GOALS.items():
        if key in measured:
            write(_line(key, *measured[key]))
        else:
            write(f"{goal.measure:44} {'–':>10} {goal.unit:6} {goal.text():28} not measured in this run")
