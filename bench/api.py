"""Benchmark: the holdings API at Cellosaurus scale, on PostgreSQL.

A catalog of 200,000 lines, 100,000 donors (with consent, DUO codes and germline
variants) and 1.4 million QC records is bulk-loaded with COPY into its own database
(PRISM_APIBENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/prism_apibench;
created and migrated here, reloaded only when its size differs; `--quick` uses
`<name>_quick`). Then:

1. For six representative requests (default list, three filter combinations,
   free-text search, facet counts), the median and 95th-percentile time through
   the API (Django test client, anonymous, so only released lines), next to the
   same answer fetched by ONE hand-written SQL query and serialised with orjson
   (the floor), and their ratio. Goal: within 3x the floor; median list page < 50 ms.
2. 30 seconds of 32 concurrent keep-alive clients against gunicorn on 127.0.0.1 (a
   free port, started and stopped here), cycling through the six requests:
   requests per second, latency, and the error count (goal: zero).

The measuring runs in a child process whose DATABASE_URL points at the bench
database, so that the catalog the command was started on is never touched.
`--quick` uses 2,000 lines and shorter runs, to check the harness.
"""

import os
import socket
import statistics
import subprocess
import sys
import threading
import time

from bench._api_catalog import _load  # noqa: E402
from bench._api_floors import FLOORS, _floor  # noqa: E402
from bench._child import BASE_DIR, run_child
from bench._facet_bound import Columns, lower_bound_ms
from bench._goals import report

FULL = {"lines": 200_000, "donors": 100_000, "qc_per_line": 7, "repeats": 40, "load_seconds": 30}
QUICK = {"lines": 2_000, "donors": 1_000, "qc_per_line": 7, "repeats": 5, "load_seconds": 3}
CLIENTS = 32
TIME_BUDGET = 30  # seconds of API + floor timing per request, at most (MIN_SAMPLES first)
MIN_SAMPLES = 10

# The six requests: (label, path and query).
REQUESTS = [
    ("default list", "/api/v1/lines/"),
    (
        "filter: ALS + female + QC passed",
        "/api/v1/lines/?disease=MONDO:0004976&sex=female&qc_passed=true",
    ),
    (
        "filter: SOD1 + commercial, newest first",
        "/api/v1/lines/?gene=SOD1&commercial_use=true&ordering=-released_at",
    ),
    (
        "filter: European 40-60 Sendai isogenic",
        "/api/v1/lines/?ancestry=European&age_min=40&age_max=60&reprogramming_method=sendai&has_isogenic_control=true",
    ),
    ("search: 'tardbp m337v'", "/api/v1/lines/?search=tardbp+m337v"),
    ("facets: ALS", "/api/v1/lines/facets/?disease=MONDO:0004976"),
]
# Facet counts for several filters (the goal is for any filter), each beside the NumPy
# lower bound of the same counts: (label, path, the filters as the bound reads them).
FACET_REQUESTS = [
    ("facets: no filter", "/api/v1/lines/facets/", {}),
    ("facets: ALS", "/api/v1/lines/facets/?disease=MONDO:0004976", {"disease": ["MONDO:0004976"]}),
    (
        "facets: female + European (two selected)",
        "/api/v1/lines/facets/?sex=female&ancestry=European",
        {"sex": ["female"], "ancestry": ["European"]},
    ),
    (
        "facets: SOD1 + QC passed",
        "/api/v1/lines/facets/?gene=SOD1&qc_status=passed",
        {"gene": ["SOD1"], "qc_status": ["passed"]},
    ),
]


def run(stdout, options):
    """Entry point of `python -m bench --only api`: runs the child with the bench database."""
    # Every load-test client comes from 127.0.0.1: one anonymous address.
    run_child("bench.api", stdout, options, THROTTLE_ANON="100000000/min", THROTTLE_USER="100000000/min")


# -- the child ------------------------------------------------------------------------
def _say(text=""):
    print(text, flush=True)


def _ensure_database(url):
    import psycopg2
    from environ import Env
    from psycopg2 import sql

    config = Env.db_url_config(url)
    admin = psycopg2.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
            _say(f"created database {config['NAME']}")
    admin.close()


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# The list and facets API keep their JSON in the shared response cache (keyed on the
# catalog version); the per-request figures are of uncached answers: the cache is
# emptied before each timed request. The load test runs with it, as a server does.
UNCACHED_NOTE = (
    "(uncached: the shared response cache is emptied before each timed request; the load test "
    "below runs with it, so there each request after a worker's first of the same address is a cache hit)"
)


def _measure(sizes):
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    client = Client()
    repeats = sizes["repeats"]
    _say()
    _say(f"{'request':48} {'API med':>8} {'API p95':>8} {'floor med':>9} {'floor p95':>9} {'ratio':>6}  rows")
    results = []
    for label, path in REQUESTS:
        api_times, floor_times = [], []
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        body = response.json()
        rows = len(body.get("results", [])) if "results" in body else sum(len(v) for v in body["facets"].values())
        with connection.cursor() as cursor:
            _floor(cursor, FLOORS[label])  # warm
            budget = time.perf_counter() + TIME_BUDGET
            for index in range(repeats):
                # Heavy requests stop after the time budget, with at least MIN_SAMPLES.
                if index >= MIN_SAMPLES and time.perf_counter() > budget:
                    break
                cache.clear()
                start = time.perf_counter()
                response = client.get(path)
                api_times.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                _, floor_rows = _floor(cursor, FLOORS[label])
                floor_times.append((time.perf_counter() - start) * 1000)
        api_med, floor_med = statistics.median(api_times), statistics.median(floor_times)
        ratio = api_med / floor_med if floor_med else float("inf")
        results.append((label, api_med, ratio, floor_med))
        label = f"{label} (n={len(api_times)})"
        _say(
            f"{label:48} {api_med:8.1f} {_percentile(api_times, 0.95):8.1f} {floor_med:9.1f} "
            f"{_percentile(floor_times, 0.95):9.1f} {ratio:5.2f}x  {rows}/{floor_rows}"
        )
    _say(
        "(times in ms; ratio = API median / floor median; rows = API items / floor rows, the floor "
        "fetching one more row for the next cursor)"
    )
    _say(UNCACHED_NOTE)
    return results


def _measure_facets(sizes):
    """Facet counts through the API (uncached: the API keeps no count cache) beside the
    NumPy lower bound; returns the worst (label, API median, bound median)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    client = Client()
    with connection.cursor() as cursor:
        columns = Columns(cursor)
    _say()
    _say(f"{'facet counts':48} {'API med':>8} {'API p95':>8} {'NumPy med':>9} {'ratio':>7}")
    worst = None
    for label, path, filters in FACET_REQUESTS:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        times = []
        budget = time.perf_counter() + TIME_BUDGET
        for index in range(sizes["repeats"]):
            if index >= MIN_SAMPLES and time.perf_counter() > budget:
                break
            cache.clear()
            start = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - start) * 1000)
        api_med, bound = statistics.median(times), lower_bound_ms(columns, filters)
        _say(
            f"{f'{label} (n={len(times)})':48} {api_med:8.1f} {_percentile(times, 0.95):8.1f} {bound:9.2f} "
            f"{api_med / bound:6.1f}x"
        )
        if worst is None or api_med > worst[1]:
            worst = (label, api_med, bound)
    _say("(NumPy med: the same counts by np.bincount over in-memory integer columns, the lower bound)")
    _say(UNCACHED_NOTE)
    return worst


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load_test(seconds, paths):
    """32 keep-alive clients for `seconds` against gunicorn on loopback, cycling through
    `paths`; returns the figures."""
    import http.client

    port = _free_port()
    env = dict(os.environ)
    gunicorn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "prism.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--worker-class",
            "gthread",
            "--threads",
            "8",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        # Warm every worker's connections and caches, until the facet request is fast on
        # six in a row (each worker builds its facet index in the background as it starts;
        # SQL answers meanwhile), at most three minutes.
        warm_until, fast = time.time() + 180, 0
        for _label, path in REQUESTS * 3:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
        while fast < 6 and time.time() < warm_until:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            start = time.perf_counter()
            conn.request("GET", REQUESTS[-1][1])
            conn.getresponse().read()
            conn.close()
            fast = fast + 1 if time.perf_counter() - start < 1 else 0

        stop_at = time.perf_counter() + seconds
        lock = threading.Lock()
        latencies, errors, statuses = [], [0], {}

        def client(index):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            i = index
            # Bounded twice: by the clock and by a request cap per client.
            for _ in range(100_000):
                if time.perf_counter() >= stop_at:
                    break
                path = paths[i % len(paths)]
                i += 1
                start = time.perf_counter()
                try:
                    conn.request("GET", path)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    status = "connection error"
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    if status == 200:
                        latencies.append(elapsed)
                    else:
                        errors[0] += 1
            conn.close()

        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 60)
        elapsed = time.perf_counter() - began
        total = sum(statuses.values())
        return {
            "seconds": elapsed,
            "requests": total,
            "rps": total / elapsed,
            "errors": errors[0],
            "statuses": statuses,
            "median": statistics.median(latencies) if latencies else None,
            "p95": _percentile(latencies, 0.95) if latencies else None,
            "port": port,
        }
    finally:
        gunicorn.terminate()
        try:
            gunicorn.wait(timeout=20)
        except subprocess.TimeoutExpired:
            gunicorn.kill()


def main():
    quick = os.environ.get("PRISM_APIBENCH_QUICK") == "1"
    sizes = QUICK if quick else FULL
    url = os.environ["DATABASE_URL"]
    _ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from lines.models import CellLine, QCRecord

    call_command("migrate", verbosity=0, interactive=False)
    if connection.vendor != "postgresql":
        raise SystemExit("the API bench needs PostgreSQL")
    have = CellLine.objects.count()
    if have != sizes["lines"] or QCRecord.objects.count() != sizes["lines"] * sizes["qc_per_line"]:
        _say(
            f"loading {sizes['lines']:,} lines, {sizes['donors']:,} donors, "
            f"{sizes['lines'] * sizes['qc_per_line']:,} QC records with COPY ..."
        )
        seconds = _load(sizes)
        _say(f"  loaded in {seconds:.1f} s")
    else:
        _say(f"catalog already loaded: {have:,} lines")
    _say(
        f"database: {connection.settings_dict['NAME']}; lines {CellLine.objects.count():,}, "
        f"QC records {QCRecord.objects.count():,}"
    )
    # A web process builds its facet index in the background after start and after each
    # catalog write (SQL answers meanwhile); the timings below are of a built index.
    from lines.holdings.facet_index import current_index

    start = time.perf_counter()
    while current_index() is None and time.perf_counter() - start < 600:
        time.sleep(0.1)
    _say(f"facet index built in {time.perf_counter() - start:.1f} s (per web process, after each catalog write)")
    results = _measure(sizes)
    facets = _measure_facets(sizes)
    phases = [("the six requests in turn", [path for _, path in REQUESTS])]
    if not quick:  # --quick checks the harness once
        phases.append(("the default list page only", [REQUESTS[0][1]]))
    loads = []
    for title, paths in phases:
        load = _load_test(sizes["load_seconds"], paths)
        loads.append(load)
        _say()
        _say(
            f"load, {title}: {CLIENTS} clients x {load['seconds']:.1f} s against gunicorn on "
            f"127.0.0.1:{load['port']} (3 workers x 8 threads): {load['requests']:,} requests, "
            f"{load['rps']:.1f} req/s, errors {load['errors']}, latency median {load['median']:.1f} ms, "
            f"p95 {load['p95']:.1f} ms (list and facets answers from the shared response cache after "
            "each worker's first; the search too: it is a list)"
        )
        if load["errors"]:
            _say(f"  statuses: {load['statuses']}")
    errors = sum(load["errors"] for load in loads)
    within = all(ratio <= 3 for _, _, ratio, _ in results)
    list_median = results[0][1]
    _say()
    _say(
        f"goals: every request within 3x its floor: {'yes' if within else 'NO'}; median default list page "
        f"{list_median:.1f} ms (< 50 ms: {'yes' if list_median < 50 else 'NO'}); "
        f"zero errors under load: {'yes' if not errors else 'NO'}"
    )
    note = f"{CellLine.objects.count():,} lines"
    report(_say, "facets", facets[1], floor=facets[2], note=f"{facets[0]}; {note}", quick=quick)
    filtered = max((r for r in results if r[0].startswith("filter:")), key=lambda r: r[1])
    report(_say, "filtered_lists", filtered[1], floor=filtered[3], note=f"{filtered[0]}; {note}", quick=quick)
    six = loads[0]
    report(_say, "load_rps", six["rps"], note=f"{CLIENTS} clients x {six['seconds']:.0f} s", quick=quick)
    report(_say, "load_p95", six["p95"] or 0, quick=quick)
    report(_say, "load_errors", six["errors"], quick=quick)


if __name__ == "__main__":
    main()
