"""Benchmark: the cohort builder on the 200,000-line API bench catalog (PostgreSQL).

The catalog of bench/api.py (bench/_api_catalog.py: 100,000 donors with consent and
germline variants, their clinical course at sampling, lines with QC and vials in
stock), loaded with COPY into its own database when it is not there yet
(PRISM_APIBENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/prism_apibench;
`--quick`: `<name>_quick`, 2,000 lines). Then a researcher builds the issue's
three-arm cohort: 12 fast-progressing C9orf72 lines, 12 sporadic ALS lines, 12
controls matched on sex, age (±5) and ancestry, for health/medical research (HMB), every
exclusion explained. Goal: < 1 s (median of the repeats), cohorts.builder.build
whole (filters, purpose, QC, stock, matching, isogenic partners, balance).
"""

import os
import statistics
import time

from bench._child import run_child
from bench._goals import report
from bench.api import FULL, QUICK, _ensure_database

DEFINITION = {
    "seed": 2026,
    "purpose": {"codes": ["DUO:0000006"]},
    "matching": {"on": ["sex", "age", "ancestry"], "age_tolerance": 5},
    "arms": [
        {"name": "C9orf72 fast", "filters": "gene=C9orf72&progression_class=fast", "size": 12},
        {"name": "sporadic", "filters": "disease=MONDO:0004976&family_history=sporadic", "size": 12},
        {"name": "control", "filters": "affection_status=unaffected", "size": 12, "matched_to": "C9orf72 fast"},
    ],
}
REPEATS = {"quick": 3, "full": 3}


def run(stdout, options):
    """Entry point of `python -m bench --only cohorts`: runs the child on the bench database."""
    run_child("bench.cohorts", stdout, options)


def _say(text=""):
    print(text, flush=True)


def main():
    quick = os.environ.get("PRISM_APIBENCH_QUICK") == "1"
    sizes = QUICK if quick else FULL
    _ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench._api_catalog import _load, add_clinical_and_stock
    from cohorts.builder import CohortImpossible, build
    from cohorts.definition import parse_definition
    from core.accounts import create_user_with_role
    from donors.models import Donor
    from lines.models import CellLine

    call_command("migrate", verbosity=0, interactive=False)
    if connection.vendor != "postgresql":
        raise SystemExit("the cohorts bench needs PostgreSQL")
    if CellLine.objects.count() != sizes["lines"]:
        _say(f"loading {sizes['lines']:,} lines, {sizes['donors']:,} donors with COPY ...")
        _say(f"  loaded in {_load(sizes):.1f} s")
    elif (
        not Donor.objects.filter(progression_rate__isnull=False).exists()
        or not Donor.objects.filter(affection_status="affected").exists()
    ):
        _say("adding the clinical course, affection status and stock to the loaded catalog ...")
        with connection.cursor() as cursor:
            add_clinical_and_stock(cursor)
            cursor.execute("ANALYZE")
    researcher = create_user_with_role("bench-cohort-researcher", "researcher")[0]
    definition = DEFINITION
    if quick:  # 2,000 lines hold few usable fast C9orf72 carriers
        arms = [{**arm, "size": 2} for arm in DEFINITION["arms"]]
        arms[0]["filters"] = "gene=C9orf72"
        definition = {**DEFINITION, "arms": arms}
    parsed = parse_definition(definition)
    timings, proposal = [], None
    for _ in range(REPEATS["quick" if quick else "full"]):
        started = time.perf_counter()
        try:
            proposal = build(parsed, researcher)
        except CohortImpossible as error:
            raise SystemExit(f"the bench cohort is impossible on this catalog: {error.message}") from error
        timings.append((time.perf_counter() - started) * 1000)
    assert proposal is not None
    members = sum(len(arm["members"]) for arm in proposal["arms"])
    found = sum(arm["found"] for arm in proposal["arms"])
    _say(
        f"  {CellLine.objects.count():,} lines: {members} members in 3 arms, {found:,} lines found by the arm filters, "
        f"{len(proposal['exclusions']):,} exclusions explained"
    )
    median = statistics.median(timings)
    _say(f"  build: median {median:.0f} ms, min {min(timings):.0f} ms, max {max(timings):.0f} ms ({len(timings)} runs)")
    report(_say, "cohort_build", median, note=f"{found:,} lines considered", quick=quick)


if __name__ == "__main__":
    main()
