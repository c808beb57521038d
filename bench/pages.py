"""Benchmark: the web pages at Cellosaurus scale, on PostgreSQL.

Reads the 200,000-line catalog that `python -m bench --only api` loads into its own
database (PRISM_APIBENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/prism_apibench)
and times the pages through the Django test client: home, the catalog unfiltered at
two page sizes, filtered (the SOD1 / full QC / commercial-use search), with selected
facets, a free-text search, a deep page sorted by age, a line page, compare, and the
curator dashboard. For each: the first request (counts not yet cached), then the
median and 95th percentile of the next ones, in ms; SQL queries; and size.
Nothing is written to that database (the curator exists inside a rolled-back
transaction). `--quick` takes fewer samples.
"""

import os
import statistics
import time

from bench._child import run_child
from bench._goals import report


def run(stdout, options):
    run_child("bench.pages", stdout, options, quick_variable="PRISM_PAGESBENCH_QUICK", LOG_LEVEL="ERROR")


def _say(text=""):
    print(text, flush=True)


def _time(client, path, samples):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # An empty cache, as after a catalog version bump (no entry under the new version):
    # the first request computes the counts and figures, the others reuse them.
    cache.clear()
    start = time.perf_counter()
    response = client.get(path)
    cold = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (path, response.status_code)
    times = []
    for _ in range(samples):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return cold, statistics.median(times), p95, len(queries), len(response.content)


def main():
    import django

    django.setup()
    from django.conf import settings

    from core.startup import load_views

    # As a web process starts (prism/wsgi.py): the URLconf, every view, the URL reverse
    # table and the templates load before the first request, so "first" is the page's,
    # not the process's.
    load_views()
    # As prism/wsgi.py, the process builds its facet index as it starts; "first" below is
    # then the first request after the shared cache is emptied with the index built (a
    # rebuild after a real write runs in the background, SQL answering meanwhile).
    from lines.holdings.facet_index import current_index

    start = time.perf_counter()
    while current_index() is None and time.perf_counter() - start < 600:
        time.sleep(0.1)
    _say(f"facet index built in {time.perf_counter() - start:.1f} s")

    # Pages link their CSS through the static storage; the bench has no collectstatic manifest.
    settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    from core.accounts import create_user_with_role
    from lines.models import CellLine

    quick = os.environ.get("PRISM_PAGESBENCH_QUICK") == "1"
    samples = 3 if quick else 10
    try:
        # A catalog loaded by an older checkout lacks newer tables (the catalog version).
        call_command("migrate", verbosity=0, interactive=False)
        total = CellLine.objects.count()
    except Exception as error:  # noqa: BLE001 - any database problem means: not loaded
        _say(
            f"no bench catalog at {connection.settings_dict['NAME']} ({error.__class__.__name__}): "
            "run `python -m bench --only api` first, which loads it"
        )
        return
    if not total:
        _say("the bench catalog is empty: run `python -m bench --only api` first, which loads it")
        return
    released = CellLine.objects.released()
    child = released.filter(parental_line__isnull=False).values_list("name", flat=True).first()
    four = list(released.values_list("name", flat=True)[:4])
    pages = [
        ("home", "/"),
        ("catalog, 50 a page", "/lines/"),
        ("catalog, 200 a page", "/lines/?page_size=200"),
        ("SOD1 + full QC + commercial use", "/lines/?gene=SOD1&qc_passed=true&commercial_use=true"),
        ("two selected facets", "/lines/?sex=female&ancestry=European"),
        ("search 'tardbp m337v'", "/lines/?search=tardbp+m337v"),
        ("page 40, oldest first", "/lines/?ordering=-age&page=40"),
        ("line page", f"/lines/{child}/"),
        ("compare four", "/lines/compare/?" + "&".join(f"names={n}" for n in four)),
    ]
    _say(f"{total:,} lines in {connection.settings_dict['NAME']}; {samples} samples each, anonymous unless noted")
    _say(f"{'page':36} {'first':>9} {'median':>9} {'p95':>9} {'queries':>8} {'KiB':>6}")
    client = Client()
    firsts, medians = {}, {}
    for label, path in pages:
        cold, median, p95, queries, size = _time(client, path, samples)
        firsts[path], medians[path] = cold, median
        _say(f"{label:36} {cold:7.0f}ms {median:7.0f}ms {p95:7.0f}ms {queries:8d} {size / 1024:6.0f}")
    with transaction.atomic():
        curator, _ = create_user_with_role("bench-pages-curator", "curator")
        client.force_login(curator)
        cold, median, p95, queries, size = _time(client, "/curator/", samples)
        _say(
            f"{'curator dashboard (curator)':36} {cold:7.0f}ms {median:7.0f}ms {p95:7.0f}ms {queries:8d} "
            f"{size / 1024:6.0f}"
        )
        transaction.set_rollback(True)
    note = f"first request with an empty cache (as after a version bump), {total:,} lines"
    report(_say, "catalog_page", firsts["/lines/"], note=note, quick=quick)
    report(_say, "home_page", firsts["/"], note=note, quick=quick)
    report(_say, "curator_dashboard", cold, note=note, quick=quick)
    note = f"median of {samples} requests from the cache, {total:,} lines"
    report(_say, "catalog_page_warm", medians["/lines/"], note=note, quick=quick)
    report(_say, "home_page_warm", medians["/"], note=note, quick=quick)
    report(_say, "curator_dashboard_warm", median, note=note, quick=quick)


if __name__ == "__main__":
    main()
