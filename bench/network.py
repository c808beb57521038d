"""Benchmark: the network of banks (issue 16).

1. Federated query: three peers on loopback, asked concurrently
   (network.federation.client): two real PRISM banks under gunicorn and a proxy that
   answers like the second one 250 ms later (bench/_federation.py). Goal: the answer
   within the slowest healthy peer's own time (measured alone) + 50 ms. Then with a
   dead peer (accepts, never answers): three different queries within the cache
   period ask it once (it remembers the peer as down, whatever the query).
2. Beacon count queries (anonymous, POST /api/beacon/v2/biosamples) on the API bench
   catalog (bench/_api_catalog.py: 200,000 lines on PostgreSQL, its own database
   PRISM_NETBENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/prism_netbench;
   `--quick`: 2,000 lines in `<name>_quick`). Uncached: no cached answer (the answer
   cache emptied; the facet index, built at the version, answers where it can); the
   SQL path alongside (a connection with uncommitted writes: neither cache nor index);
   cached. Goal: uncached median < 100 ms.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/prism_netbench"
COUNT_QUERIES = [
    ("ALS (with subtypes)", ["MONDO:0004976"]),
    ("ALS + female", ["MONDO:0004976", "NCIT:C16576"]),
    ("ALS + female + age >= 50", ["MONDO:0004976", "NCIT:C16576", {"id": "age", "operator": ">=", "value": "50"}]),
    ("SOD1 (HGNC:11179)", ["HGNC:11179"]),
    ("no filter", []),
]
G_VARIANT_QUERIES = [
    ("SOD1", {"geneId": "SOD1"}),
    ("FUS p.Arg521Cys", {"geneId": "FUS", "aminoacidChange": "R521C"}),
]


def _median_ms(call, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _federation(stdout, repeats, quick):
    import tempfile

    import httpx
    from django.core.cache import cache
    from django.test import override_settings

    from bench import _federation as peers_
    from bench._goals import report
    from network.federation.client import ask_peers, beacon_body
    from network.models import Peer

    directory = Path(tempfile.mkdtemp(prefix="prism-federation-bench-"))
    stdout.write("federation: seeding the peer banks (SQLite) ...")
    seeded = peers_.seed(directory)
    banks = [peers_.Bank(seeded, directory, f"Bank {letter}") for letter in "BC"]
    slow, dead = None, peers_.dead_peer()
    try:
        for bank in banks:
            bank.wait()
        slow = peers_.slow_proxy(banks[1].url)
        urls = [banks[0].url, banks[1].url, slow.url]
        healthy = [Peer(pk=i + 1, name=f"peer {i}", base_url=url) for i, url in enumerate(urls)]
        gone = Peer(pk=99, name="dead", base_url=dead.url)
        filters = [{"id": "MONDO:0004976"}]
        body = beacon_body(filters)
        with httpx.Client() as client:
            for url in urls:  # warm every bank (first requests import and connect)
                client.post(f"{url}/api/beacon/v2/biosamples", json=body)
            alone = {
                url: _median_ms(lambda url=url: client.post(f"{url}/api/beacon/v2/biosamples", json=body), repeats)
                for url in urls
            }
        slowest = max(alone.values())
        with override_settings(FEDERATION_TIMEOUT_SECONDS=1.0):

            def federated():
                cache.clear()
                answers = ask_peers(healthy, filters, {})
                assert all(a.error is None for a in answers), answers

            median = _median_ms(federated, repeats)
            stdout.write(
                "three real PRISM peers (gunicorn), one behind a 250 ms proxy: each alone "
                + ", ".join(f"{ms:.0f}" for ms in alone.values())
                + f" ms; all at once median {median:.0f} ms over {repeats}, overhead {median - slowest:.0f} ms"
            )
            load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
            report(stdout.write, "federation_overhead", median - slowest, note=load, quick=quick)
            cache.clear()
            timings = []
            for query in ([{"id": "MONDO:0004976"}], [{"id": "NCIT:C16576"}], [{"id": "MONDO:0007103"}]):
                start = time.perf_counter()
                answers = ask_peers([*healthy, gone], query, {})
                timings.append((time.perf_counter() - start) * 1000)
            stdout.write(
                f"with a dead peer, three different queries in one cache period: {timings[0]:.0f} / "
                f"{timings[1]:.0f} / {timings[2]:.0f} ms ({answers[-1].error}); the dead peer was asked "
                f"{dead.asked} time(s)"
            )
            report(stdout.write, "federation_dead_peer", dead.asked, note="three queries", quick=quick)
    finally:
        for server in [*banks, *([slow] if slow else []), dead]:
            server.stop()
        cache.clear()


def run(stdout, options):
    quick = bool(options.get("quick"))
    _federation(stdout, 5 if quick else 20, quick)
    url = os.environ.get("PRISM_NETBENCH_DATABASE_URL", DEFAULT_URL) + ("_quick" if quick else "")
    env = dict(
        os.environ,
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="prism.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-only-secret-key-not-for-production",
        PRISM_NETBENCH_QUICK="1" if quick else "0",
        THROTTLE_ANON="100000000/min",
        LOG_LEVEL="WARNING",
    )
    env.pop("CELERY_BROKER_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.network"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for line in process.stdout:
        stdout.write(line.rstrip("\n"))
    if process.wait() != 0:
        stdout.write(f"network bench failed (exit {process.returncode})")


def main():
    from bench.api import FULL, QUICK, _ensure_database

    sizes = QUICK if os.environ.get("PRISM_NETBENCH_QUICK") == "1" else FULL
    _ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from bench._api_catalog import _load
    from lines.models import CellLine, QCRecord

    call_command("migrate", verbosity=0, interactive=False)
    if CellLine.objects.count() != sizes["lines"] or QCRecord.objects.count() != sizes["lines"] * sizes["qc_per_line"]:
        print(f"loading {sizes['lines']:,} lines with COPY ...", flush=True)
        print(f"  loaded in {_load(sizes):.1f} s", flush=True)
    from django.core.cache import cache
    from django.db import connection, transaction

    from bench._goals import report
    from core.catalog_version import bump
    from lines.holdings.facet_index import current_index

    with connection.cursor() as cursor:
        # The copy a suite starts from may never have been vacuumed: without the
        # visibility map the planner cannot answer counts by index-only scans.
        cursor.execute("VACUUM ANALYZE lines_cellline, donors_donor, donors_consent, donors_variant")
    # A web process builds its facet index in the background as it starts and after each
    # catalog write (SQL answers meanwhile); the index path is timed with it built.
    start = time.perf_counter()
    while current_index() is None and time.perf_counter() - start < 600:
        time.sleep(0.1)
    print(f"facet index built in {time.perf_counter() - start:.1f} s", flush=True)
    print(f"Beacon count queries on {CellLine.objects.count():,} lines (anonymous):", flush=True)
    client = Client()
    repeats = 10 if sizes is QUICK else 20

    def post(endpoint, body):
        start = time.perf_counter()
        response = client.post(f"/api/beacon/v2/{endpoint}", body, content_type="application/json")
        assert response.status_code == 200, response.content[:300]
        return (time.perf_counter() - start) * 1000, response.json()["responseSummary"]

    uncached, sql, cached = {}, {}, {}
    for endpoint, label, body in _count_bodies():
        key = f"{endpoint} {label}"
        post(endpoint, body)
        cold, warm = [], []
        for _ in range(repeats):
            cache.clear()  # no cached answer (the index stays at the version: it answers)
            elapsed, summary = post(endpoint, body)
            cold.append(elapsed)
            warm.append(post(endpoint, body)[0])
        # The SQL path, as on a connection with uncommitted catalog writes: inside a
        # transaction a bump only queues (no row written), every bump gives this
        # connection a version of its own (no cached answer) and the index stands aside.
        with transaction.atomic():
            cold_sql = []
            for _ in range(repeats):
                bump()
                elapsed, sql_summary = post(endpoint, body)
                cold_sql.append(elapsed)
            transaction.set_rollback(True)
        assert sql_summary == summary, (key, sql_summary, summary)
        uncached[key], sql[key], cached[key] = (statistics.median(t) for t in (cold, cold_sql, warm))
        print(
            f"  {key:45} uncached {uncached[key]:7.1f} ms (max {max(cold):6.1f})"
            f"  SQL path {sql[key]:7.1f} ms  cached {cached[key]:6.1f} ms  {summary}",
            flush=True,
        )
    load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    quick = sizes is QUICK
    entries = [key for key in uncached if not key.startswith("g_variants")]
    print(
        f"  biosamples/individuals (the facet index answers): worst uncached median "
        f"{max(uncached[key] for key in entries):.1f} ms, SQL path {max(sql[key] for key in entries):.1f} ms",
        flush=True,
    )
    worst = max(uncached, key=uncached.get)
    report(print, "beacon_counts", uncached[worst], note=f"{worst}; SQL path {sql[worst]:.0f} ms; {load}", quick=quick)
    worst = max(cached, key=cached.get)
    report(print, "beacon_counts_warm", cached[worst], note=f"{worst}; {load}", quick=quick)


def _count_bodies():
    """(endpoint, label, Beacon request body) of every count query measured."""
    for endpoint in ("biosamples", "individuals"):
        for label, filters in COUNT_QUERIES:
            yield endpoint, label, json.dumps({"query": {"filters": filters, "requestedGranularity": "count"}})
    for label, params in G_VARIANT_QUERIES:
        body = {"query": {"filters": [], "requestParameters": params, "requestedGranularity": "count"}}
        yield "g_variants", label, json.dumps(body)


if __name__ == "__main__":
    main()
