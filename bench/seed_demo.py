"""Benchmark: `manage.py seed_demo`, which `make run` waits for on a fresh machine.

Times drawing the catalog in memory, a run into the current database and a second
run (the rebuild that replaces the first), inside a transaction that is rolled back
so the database is left as it was. One password hash is timed on its own: the three
demo users' hashes (PBKDF2, Django's default cost) are a fixed part of every run.
"""

import time

from django.contrib.auth.hashers import make_password
from django.db import transaction

from demo import catalog as demo


class _Rollback(Exception):
    pass


def _timed(function):
    """(result, wall seconds, CPU seconds of this process). On a busy machine the wall
    time says little; the CPU time is what the run itself costs (the database server's
    share of a PostgreSQL run is not in it)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - started, time.process_time() - cpu


def run(stdout, options):
    _, plan, plan_cpu = _timed(demo.build_builder)
    _, one_hash, hash_cpu = _timed(lambda: make_password("benchmark-password"))
    try:
        with transaction.atomic():
            first, first_s, first_cpu = _timed(lambda: demo.seed_demo(alongside_other_lines=True))
            second, second_s, second_cpu = _timed(lambda: demo.seed_demo(alongside_other_lines=True))
            raise _Rollback
    except _Rollback:
        pass
    stdout.write(
        f"seed_demo: {first.donors} donors, {first.lines} lines, {first.qc_records} QC records, "
        f"{first.requests} requests"
    )
    stdout.write("                               wall       CPU")
    stdout.write(f"  draw the catalog in memory {plan:6.2f} s  {plan_cpu:6.2f} s")
    stdout.write(
        f"  first run (write)          {first_s:6.2f} s  {first_cpu:6.2f} s"
        + (f"  (replaced {first.replaced_lines} lines already there)" if first.replaced_lines else "")
    )
    stdout.write(
        f"  second run (rebuild)       {second_s:6.2f} s  {second_cpu:6.2f} s  (replaced {second.replaced_lines} lines)"
    )
    stdout.write(f"  one password hash          {one_hash:6.2f} s  {hash_cpu:6.2f} s  (3 per run)")
