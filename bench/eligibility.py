"""Consent eligibility over a large catalog: 20,000 lines (--quick: 1,000).

Donors get consents cycling through realistic DUO mixes (GRU, HMB, DS on ALS /
ALS1 / Parkinson, POA, NCU, IRB, GS, withdrawn). Reported, on a throw-away copy
of the configured database:

  evaluate_lines     every line judged in Python (consents prefetched): what the
                     eligibility endpoint and a request submission do
  purpose filter     filter_lines_for_purpose(): the same APPROVE set in one SQL
                     query (count, and the first 50 names as the line list pages)
  agreement          the two give the same set of lines
"""

import datetime
import time

from django.db import connection
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases

from core.models import Institution
from distribution.eligibility import evaluate_lines, filter_lines_for_purpose
from donors.duo import APPROVE, Purpose
from donors.models import Consent, Donor
from lines.models import CellLine

GRU, HMB, DS, POA = "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000011"
NCU, IRB, GS = "DUO:0000046", "DUO:0000021", "DUO:0000022"
ALS, ALS1, PARKINSON = "MONDO:0004976", "MONDO:0007103", "MONDO:0005180"

CONSENT_MIXES = [
    ([GRU], ""),
    ([HMB], ""),
    ([DS], ALS),
    ([DS], ALS1),
    ([DS], PARKINSON),
    ([POA], ""),
    ([GRU, NCU], ""),
    ([HMB, IRB], ""),
    ([GRU, GS], ""),
    ([GRU], "withdrawn"),
]


def run(stdout, options):
    n_lines = 1_000 if options.get("quick") else 20_000
    old_config = setup_databases(verbosity=0, interactive=False, aliases=["default"])
    try:
        _run(stdout, n_lines)
    finally:
        teardown_databases(old_config, verbosity=0)


def _build(n_lines):

    institution = Institution.objects.create(code="BEN", name="Bench institute", country="Germany")
    donors = Donor.objects.bulk_create(
        [Donor(code=f"BENCH-E{i:06d}", institution=institution, disease=ALS) for i in range(n_lines)],
        batch_size=2000,
    )
    consents = Consent.objects.bulk_create(
        [
            Consent(
                donor=donor,
                disease=CONSENT_MIXES[i % len(CONSENT_MIXES)][1]
                if CONSENT_MIXES[i % len(CONSENT_MIXES)][1] != "withdrawn"
                else "",
                withdrawn_on=datetime.date(2025, 1, 1)
                if CONSENT_MIXES[i % len(CONSENT_MIXES)][1] == "withdrawn"
                else None,
            )
            for i, donor in enumerate(donors)
        ],
        batch_size=2000,
    )
    through = Consent.codes.through
    through.objects.bulk_create(
        [
            through(consent_id=consent.pk, duoterm_id=code)
            for i, consent in enumerate(consents)
            for code in CONSENT_MIXES[i % len(CONSENT_MIXES)][0]
        ],
        batch_size=5000,
    )
    CellLine.objects.bulk_create(
        [
            CellLine(
                name=f"BENi{i:06d}-A",
                donor=donor,
                institution=institution,
                status="released",
                availability="available",
            )
            for i, donor in enumerate(donors)
        ],
        batch_size=2000,
    )


def _timed(function):
    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        result = function()
    return result, time.perf_counter() - start, len(queries)


def _run(stdout, n_lines):

    write = stdout.write
    start = time.perf_counter()
    _build(n_lines)
    if connection.vendor == "postgresql":
        # Planner statistics, as autovacuum would have them on a live catalog.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    write(
        f"catalog: {n_lines:,} lines with consents, built in {time.perf_counter() - start:.1f} s "
        f"({connection.vendor})\n"
    )
    purposes = [
        ("HMB, academic", Purpose(frozenset({HMB}), None, False, "academic")),
        ("DS ALS1, academic", Purpose(frozenset({DS}), ALS1, False, "academic")),
        ("HMB, commercial company", Purpose(frozenset({HMB}), None, True, "commercial")),
    ]
    for label, purpose in purposes:
        results, seconds, queries = _timed(lambda p=purpose: evaluate_lines(CellLine.objects.all(), p))
        approved = {r.line for r in results if r.decision == APPROVE}

        def filtered(p=purpose):
            return filter_lines_for_purpose(
                CellLine.objects.all(), p.codes, p.disease, p.commercial, p.organisation_type
            )

        count, count_seconds, count_queries = _timed(lambda f=filtered: f().count())
        page, page_seconds, _ = _timed(lambda f=filtered: list(f().order_by("name")[:50]))
        names = set(filtered().values_list("name", flat=True))
        write(f"{label}:\n")
        write(
            f"  evaluate_lines   {seconds * 1000:9.1f} ms  ({n_lines / seconds:,.0f} lines/s, "
            f"{queries} queries)  approve: {len(approved):,}\n"
        )
        write(
            f"  purpose filter   {count_seconds * 1000:9.1f} ms  count = {count:,} ({count_queries} "
            f"quer{'y' if count_queries == 1 else 'ies'}); first page of 50 in {page_seconds * 1000:.1f} ms\n"
        )
        write(f"  agreement        {'same lines' if names == approved else 'DIFFERENT'}\n")
