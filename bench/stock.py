"""Stock: receiving 100,000 vials from one CSV (goal ≥ 20,000 vials/s on PostgreSQL)
and reserving vials for 1,000 approved requests (goal < 5 ms each); --quick: 2,000
vials and 50 requests. On a throw-away copy of the configured database.

  receive    stock.receiving.receive_vials on a file of vials with box positions:
             the whole check (ids, lots, wells) and the write (COPY on PostgreSQL)
  reserve    distribution.actions.stock.reserve_for_request, one transaction per
             request of 2 vials, its commit included (on PostgreSQL one prepared
             statement picks, reserves, logs and links the vials and stores the
             line's stock block; prepared on the first request, reused after)

Each figure is printed with its goal and whether it is met.
"""

import time

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import setup_databases, teardown_databases

from bench._goals import report
from core.accounts import create_user_with_role
from core.models import Institution
from distribution.actions.stock import reserve_for_request
from distribution.models import DistributionRequest, RequestedLine
from donors.models import Donor
from lines.models import CellLine
from stock.models import Location, Lot, Vial
from stock.receiving import receive_vials

BOX = 9
LINES = 100


def run(stdout, options):
    quick = bool(options.get("quick"))
    n_vials, n_requests = (2_000, 50) if quick else (100_000, 1_000)
    old_config = setup_databases(verbosity=0, interactive=False, aliases=["default"])
    try:
        _run(stdout, n_vials, n_requests, quick)
    finally:
        teardown_databases(old_config, verbosity=0)


def _build(n_vials):
    curator = create_user_with_role("bench-curator", "curator")[0]
    institution = Institution.objects.create(code="BEN", name="Bench institute", country="Germany")
    donors = Donor.objects.bulk_create(
        [Donor(code=f"BENCH-S{i:05d}", institution=institution) for i in range(LINES)], batch_size=1000
    )
    lines = CellLine.objects.bulk_create(
        [
            CellLine(
                name=f"BENi{i:03d}-A", donor=d, institution=institution, status="released", availability="available"
            )
            for i, d in enumerate(donors)
        ]
    )
    # Released directly: the bench measures receiving and reserving, not QC release.
    lots = Lot.objects.bulk_create(
        [Lot(line=ln, code="MCB01", accession=f"SAMEGB{i:05d}", status="released") for i, ln in enumerate(lines)]
    )
    site = Location.objects.create(kind="site", name="Bench site", code="bench")
    freezer = Location.objects.create(kind="freezer", name="Tank", code="bench-t", parent=site)
    rack = Location.objects.create(kind="rack", name="Rack", code="bench-t-r", parent=freezer)
    n_boxes = -(-n_vials // (BOX * BOX))
    Location.objects.bulk_create(
        [
            Location(kind="box", name=f"Box {b}", code=f"bench-b{b:05d}", parent=rack, rows=BOX, columns=BOX)
            for b in range(n_boxes)
        ],
        batch_size=2000,
    )
    rows = ["vial,batch,box,position"]
    for n in range(n_vials):
        box, well = divmod(n, BOX * BOX)
        row, column = divmod(well, BOX)
        rows.append(f"SAMEAB{n:08d},{lots[n % LINES].accession},bench-b{box:05d},{chr(65 + row)}{column + 1}")
    return curator, lines, ("\n".join(rows) + "\n").encode()


def _requests(curator: User, lines, n_requests):
    requester = create_user_with_role("bench-requester", "researcher")[0]
    requests = DistributionRequest.objects.bulk_create(
        [
            DistributionRequest(
                requester=requester, organisation="Bench", organisation_type="academic", status="under_review"
            )
            for _ in range(n_requests)
        ],
        batch_size=1000,
    )
    RequestedLine.objects.bulk_create(
        [
            RequestedLine(request=r, line=lines[i % len(lines)], vials=2, eligibility="APPROVE", decision="approved")
            for i, r in enumerate(requests)
        ],
        batch_size=1000,
    )
    return requests


def _vacuum():
    """After the bulk load, as autovacuum would soon do: fresh statistics, and a
    visibility map that lets the stock count read only the index (vial lot, status, id)."""
    if connection.vendor != "postgresql":
        return
    tables = [m._meta.db_table for m in (Vial, Lot, CellLine, RequestedLine, DistributionRequest)]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) " + ", ".join(connection.ops.quote_name(t) for t in tables))


def _met(ok):
    return "met" if ok else "NOT met"


def _run(stdout, n_vials, n_requests, quick):
    curator, lines, data = _build(n_vials)
    stdout.write(f"  {connection.vendor}: {n_vials:,} vials in one file ({len(data) / 1e6:.1f} MB), {LINES} lots")
    started = time.perf_counter()
    received = receive_vials(data, by=curator, filename="bench.csv")
    elapsed = time.perf_counter() - started
    assert received.vials == n_vials == Vial.objects.count()
    rate = n_vials / elapsed
    stdout.write(
        f"  receive   {elapsed:6.2f} s   {rate:10,.0f} vials/s   goal ≥ 20,000 vials/s: {_met(rate >= 20_000)}"
    )

    note = f"{connection.vendor}, {n_vials:,} vials"
    report(stdout.write, "stock_receiving", rate, note=note, quick=quick)

    requests = _requests(curator, lines, n_requests)
    _vacuum()
    timings = []
    for request in requests:
        started = time.perf_counter()
        with transaction.atomic():
            reserve_for_request(request, curator)
        timings.append(time.perf_counter() - started)
    timings.sort()
    mean = sum(timings) / len(timings) * 1000
    p95 = timings[int(len(timings) * 0.95) - 1] * 1000
    stdout.write(
        f"  reserve   {n_requests:,} requests of 2 vials: mean {mean:.2f} ms, p95 {p95:.2f} ms   "
        f"goal < 5 ms each: {_met(mean < 5)}"
    )
    report(stdout.write, "stock_reserving", mean, note=f"{connection.vendor}, p95 {p95:.2f} ms", quick=quick)
    reserved = Vial.objects.filter(status="reserved").count()
    assert reserved == 2 * n_requests, reserved
    stdout.write(f"  checked   {reserved:,} vials reserved, none twice")
