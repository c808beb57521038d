"""Benchmark: the network of banks (issue 16).

1. Federated query: three local Beacon peers on loopback answering after 20, 60 and
   250 ms (the slow one), asked concurrently (network.federation.client). Goal: the
   answer within the slowest healthy peer's time + 50 ms. Then with a fourth peer
   that hangs: the first query waits its timeout (FEDERATION_TIMEOUT_SECONDS, 1 s
   here), the next within the cache period does not wait for it at all.
   The peers are small fake Beacons (threads of this process), not full PRISMs:
   what is measured is the client's concurrency and caching.
2. Beacon count queries (anonymous, POST /api/beacon/v2/biosamples) on the API bench
   catalog (bench/_api_catalog.py: 200,000 lines on PostgreSQL, its own database
   PRISM_NETBENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/prism_netbench;
   `--quick`: 2,000 lines in `<name>_quick`). Goal: median < 100 ms.
"""

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


def _peer(delay):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(delay)
            body = json.dumps({"meta": {}, "responseSummary": {"exists": True, "numTotalResults": 12}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _federation(stdout, repeats):
    from django.core.cache import cache
    from django.test import override_settings

    from network.federation.client import ask_peers
    from network.models import Peer

    delays = [0.02, 0.06, 0.25]
    servers = [_peer(d) for d in delays]
    hanging = _peer(30)
    peers = [
        Peer(pk=i + 1, name=f"peer {i}", base_url=f"http://127.0.0.1:{s.server_address[1]}")
        for i, s in enumerate(servers)
    ]
    dead = Peer(pk=99, name="dead", base_url=f"http://127.0.0.1:{hanging.server_address[1]}")
    filters = [{"id": "MONDO:0004976"}]
    with override_settings(FEDERATION_TIMEOUT_SECONDS=1.0):
        times = []
        for _ in range(repeats):
            cache.clear()
            start = time.perf_counter()
            answers = ask_peers(peers, filters, {})
            times.append((time.perf_counter() - start) * 1000)
            assert all(a.error is None for a in answers), answers
        slowest = max(delays) * 1000
        median = statistics.median(times)
        stdout.write(
            f"three peers (20/60/250 ms): median {median:.0f} ms over {repeats}, slowest healthy {slowest:.0f} ms, "
            f"overhead {median - slowest:.0f} ms (goal <= 50)"
        )
        cache.clear()
        start = time.perf_counter()
        first = ask_peers([*peers, dead], filters, {})
        cold = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        ask_peers([*peers, dead], filters, {})
        warm = (time.perf_counter() - start) * 1000
        stdout.write(
            f"with a hanging peer: first query {cold:.0f} ms ({first[-1].error}), "
            f"next within the cache period {warm:.1f} ms"
        )
    for server in [*servers, hanging]:
        server.shutdown()


def run(stdout, options):
    quick = bool(options.get("quick"))
    _federation(stdout, 5 if quick else 20)
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
    from django.db import connection

    from bench._goals import report
    from core.catalog_version import bump

    with connection.cursor() as cursor:
        # The copy a suite starts from may never have been vacuumed: without the
        # visibility map the planner cannot answer counts by index-only scans.
        cursor.execute("VACUUM ANALYZE lines_cellline, donors_donor, donors_consent, donors_variant")
    print(f"Beacon count queries on {CellLine.objects.count():,} lines (anonymous):", flush=True)
    client = Client()
    repeats = 10 if sizes is QUICK else 20
    uncached, cached = {}, {}
    for endpoint, label, body in _count_bodies():
        first = client.post(f"/api/beacon/v2/{endpoint}", body, content_type="application/json")
        assert first.status_code == 200, first.content[:300]
        cold, warm = [], []
        for _ in range(repeats):
            bump()  # a new catalog version: the count is not in the cache
            start = time.perf_counter()
            client.post(f"/api/beacon/v2/{endpoint}", body, content_type="application/json")
            cold.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            client.post(f"/api/beacon/v2/{endpoint}", body, content_type="application/json")
            warm.append((time.perf_counter() - start) * 1000)
        key = f"{endpoint} {label}"
        uncached[key], cached[key] = statistics.median(cold), statistics.median(warm)
        summary = first.json()["responseSummary"]
        print(
            f"  {key:45} uncached median {uncached[key]:7.1f} ms (max {max(cold):6.1f})"
            f"  cached median {cached[key]:6.1f} ms  {summary}",
            flush=True,
        )
    load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    quick = sizes is QUICK
    worst = max(uncached, key=uncached.get)
    report(print, "beacon_counts", uncached[worst], note=f"{worst}; {load}", quick=quick)
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
