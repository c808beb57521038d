"""Benchmark: `manage.py import_cellosaurus --all-categories` at the size of a full
Cellosaurus release (~160k entries).

The input is made from the real release-29 head file (../shared/data, 1000 entries)
copied N times with every accession rewritten to a fresh, consistent one (HI/OI links
stay inside each copy) and " #k" appended to IDs, written to a temporary file. The
import runs twice (first load, then the no-change re-run) inside a transaction that is
rolled back, so the database is left as it was.
"""

import gzip
import re
import resource
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction

from lines.cellosaurus.importer import import_cellosaurus
from lines.cellosaurus.parser import read_entries

SOURCE = "cellosaurus/cellosaurus_r29_head1000.txt.gz"
_ACCESSION = re.compile(r"CVCL_[A-Z0-9]{4}")
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FIRST_SYNTHETIC = 1_000_000  # base 36: "LFLS"; 36**4 = 1,679,616 accessions in all


def _base36(number):
    text = ""
    for _ in range(4):
        number, digit = divmod(number, 36)
        text = _DIGITS[digit] + text
    return text


def make_file(source, copies, target):
    """Write `copies` renamed copies of the entries of `source` to `target` (plain text)."""
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        text = handle.read()
    body = text[text.index("\nID   ") + 1 :]
    originals = sorted(set(_ACCESSION.findall(body)))
    index = {accession: i for i, accession in enumerate(originals)}
    with open(target, "w", encoding="utf-8") as out:
        for copy in range(copies):
            # Far above real accessions, so that the copies never meet catalog rows.
            offset = _FIRST_SYNTHETIC + copy * len(originals)
            renamed = _ACCESSION.sub(lambda m, o=offset: "CVCL_" + _base36(o + index[m.group(0)]), body)
            if copy:
                renamed = re.sub(r"^ID   (.*)$", rf"ID   \1 #{copy}", renamed, flags=re.MULTILINE)
            out.write(renamed)


class _Rollback(Exception):
    pass


def run(stdout, options):
    source = Path(settings.PRISM_REFERENCE_DATA) / SOURCE
    if not source.is_file():
        stdout.write(f"skipped: {source} not found (set PRISM_REFERENCE_DATA)")
        return
    copies = 5 if options.get("quick") else 160
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cellosaurus_synthetic.txt"
        make_file(source, copies, path)
        size_mb = path.stat().st_size / 1e6

        started, cpu = time.perf_counter(), time.process_time()
        entries = sum(1 for _ in read_entries(path))
        parse_seconds, parse_cpu = time.perf_counter() - started, time.process_time() - cpu
        stdout.write(f"input: {entries} entries, {size_mb:.0f} MB ({copies} renamed copies of the r29 head file)")
        stdout.write(
            f"parse only: {parse_seconds:.1f} s wall, {parse_cpu:.1f} s CPU ({entries / parse_seconds:,.0f} entries/s)"
        )

        try:
            with transaction.atomic():
                for label in ("first import", "re-run (no changes)"):
                    started, cpu = time.perf_counter(), time.process_time()
                    report = import_cellosaurus(path, all_categories=True)
                    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                    stdout.write(
                        f"{label}: {seconds:.1f} s wall, {cpu:.1f} s CPU in this process "
                        f"({entries / seconds:,.0f} entries/s); lines "
                        f"{report.lines_created} created / {report.lines_updated} updated / "
                        f"{report.lines_unchanged} unchanged; references {report.references_created} created / "
                        f"{report.references_unchanged} unchanged; donors {report.donors_created}; "
                        f"variants {report.variants_created}; process peak RSS {peak_mb:.0f} MB"
                    )
                raise _Rollback
        except _Rollback:
            stdout.write("(database rolled back)")
