"""Results: deposit to fit for one 384-well plate per line × 20 lines (--quick: 2 lines).

Each line's plate holds 8 compounds × 12 concentrations × 4 replicates = 384 wells,
so the deposit is a CSV table of 7,680 rows (20 lines) and the worker fits 160
four-parameter logistics. What a depositor waits for, each step as the real code
runs it, in one transaction rolled back (the broker is not used: the worker's
function is called in this process):

  deposit       results.deposit.deposit_dataset on the CSV bytes: store, digest, save
  worker        results.pipeline.run_validation: read the table, schema and catalog
                checks, write lines and measurements, fit every curve
  deposit-to-fit  both

Figures: seconds, wells per second, fits per second.
"""

import csv
import io
import math
import random
import tempfile
import time

from django.db import transaction
from django.test import override_settings

from core.accounts import create_user_with_role, institution_for_code
from donors.models import Consent, Donor
from lines.models import CellLine
from results.deposit import deposit_dataset
from results.pipeline import run_validation

COMPOUNDS = 8
CONCENTRATIONS_UM = [0.001 * 3**i for i in range(12)]
REPLICATES = 4
ROWS = "ABCDEFGHIJKLMNOP"
COLUMNS = ["line", "well", "compound", "concentration", "concentration_unit", "replicate", "readout", "value", "unit"]


class _Rollback(Exception):
    pass


def plate_table(line_names, seed=1):
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for name in line_names:
        well = 0
        for compound in range(COMPOUNDS):
            ec50 = 10 ** rng.uniform(-1.5, 0.5)
            for concentration in CONCENTRATIONS_UM:
                for replicate in range(1, REPLICATES + 1):
                    mean = 8 + 92 / (1 + 10 ** ((math.log10(ec50) - math.log10(concentration)) * -1.2))
                    label = f"{ROWS[well // 24]}{well % 24 + 1:02d}"
                    well += 1
                    row = [name, label, f"BENCH-{compound}", concentration, "uM", replicate, "viability"]
                    writer.writerow([*row, round(mean + rng.gauss(0, 3), 2), "%"])
    return buffer.getvalue().encode()


def run(stdout, options):
    n_lines = 2 if options.get("quick") else 20
    wells = n_lines * COMPOUNDS * len(CONCENTRATIONS_UM) * REPLICATES
    stdout.write(f"results: {n_lines} lines × 384 wells = {wells:,} measurements, {n_lines * COMPOUNDS} curves")
    with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
        try:
            with transaction.atomic():
                institution = institution_for_code("BENCH", name="Benchmark institute", country="Nowhere")
                depositor = create_user_with_role("bench-results", "depositor", institution=institution)[0]
                names = []
                for i in range(n_lines):
                    donor = Donor.objects.create(code=f"BENCH-R{i:03d}", institution=institution)
                    Consent.objects.create(donor=donor, genetic_data="open", obtained_on="2024-01-01")
                    line = CellLine.objects.create(
                        name=f"BENCHi{i:03d}-A", donor=donor, institution=institution, status="released"
                    )
                    names.append(line.name)
                content = plate_table(names)
                metadata = {
                    "title": "Benchmark plate",
                    "protocol": {"name": "bench", "version": "1"},
                    "cell_type": "CL:0000100",
                    "performed_on": "2026-01-01",
                    "licence": "CC0-1.0",
                }
                started = time.perf_counter()
                dataset = deposit_dataset(
                    depositor, assay="dose_response", fmt="csv", content=content, metadata=metadata
                )
                deposited = time.perf_counter()
                run_validation(dataset.pk)
                finished = time.perf_counter()
                dataset.refresh_from_db()
                fitted = dataset.fits.filter(status="fitted").count()
                if dataset.status != "pending_review":
                    stdout.write(f"  the deposit did not validate: {dataset.findings[:3]}")
                raise _Rollback
        except _Rollback:
            pass
    total = finished - started
    stdout.write(f"  deposit        {deposited - started:8.2f} s  ({len(content) / 1e6:.1f} MB CSV)")
    stdout.write(f"  worker         {finished - deposited:8.2f} s  ({wells / (finished - deposited):,.0f} wells/s)")
    stdout.write(f"  deposit-to-fit {total:8.2f} s  ({fitted} of {n_lines * COMPOUNDS} curves fitted)")
