"""Validating a 10,000-line submission (--quick: 500 lines).

A generated document, half its lines clean and half with one planted error each
(a rule from every family), is validated against protocol v1 with a catalog
holding donors, named lines and STR profiles (so NAME-3 and STR-3 do real work).
Reported, in one run on a throw-away copy of the configured database:

  schema only   the compiled JSON Schema validator over the whole document (every
                error collected): the floor no validation can go under
  full          lines.submissions.validation.validate_document: schema + every rule, catalog
                read set-based, STR search per distinct profile
  ratio         full / schema only (goal: ≤ 5); each the best of 2 (--quick: 1) alternating runs
  lines/s, peak memory (tracemalloc, a separate run so timing is not slowed),
  database queries of the full run.

`generate_document(n_lines, error_fraction, seed)` is the generator; the pipeline
benchmark may reuse it to time the same document through a worker.
"""

import copy
import random
import time
import tracemalloc

from django.db import connection
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases

from core.models import Institution
from donors.models import Consent, Donor
from lines.models import CellLine, ProtocolVersion, ReferenceProfile
from lines.str.index import forget_index, get_index
from lines.str.matching import normalise_profile
from lines.str.store import rebuild_index
from lines.submissions.protocol.example import str_profile, valid_document
from lines.submissions.validation import schema_validator, validate_document


def _set(document, line_index, path, value):
    target = document["lines"][line_index]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _qc(document, line_index, test):
    return next(item for item in document["lines"][line_index]["qc"] if item["test"] == test)


# One planted error per broken line, cycling through these (rule it should raise, change).
PLANTED = [
    ("QC-2", lambda d, i: _set(d, i, ["qc", 2, "result"], "fail")),
    ("QC-4", lambda d, i: _qc(d, i, "genomic_integrity").update(bands=320)),
    ("QC-3", lambda d, i: _qc(d, i, "pluripotency")["markers"][1].update(percent_positive=55.0)),
    ("QC-1", lambda d, i: d["lines"][i]["qc"].pop(3)),
    ("LINE-3", lambda d, i: _set(d, i, ["culture", "passage_at_banking"], 250)),
    ("QC-5", lambda d, i: _qc(d, i, "trilineage").update(germ_layers=["ectoderm", "mesoderm"])),
    ("STR-2", lambda d, i: _qc(d, i, "identity").update(str_profile=str_profile(f"swap-{i}"))),
    ("NAME-1", lambda d, i: _set(d, i, ["name"], f"UKB-{i}")),
    ("SCHEMA", lambda d, i: _set(d, i, ["culture", "passage_at_banking"], "fifteen")),
    ("LINE-2", lambda d, i: _qc(d, i, "mycoplasma").update(date="2025-01-01")),
    ("REF-1", lambda d, i: _set(d, i, ["donor"], f"nobody-{i}")),
    (
        "VAR-2",
        lambda d, i: _set(
            d,
            i,
            ["modification"],
            {"type": "none", "variants": [{"gene": "SOD1", "protein": "A4V"}]},
        ),
    ),
    # The line is in fact a catalog line of another donor (also STR-2: not its donor's profile).
    (
        "STR-3",
        lambda d, i: _qc(d, i, "identity").update(str_profile=str_profile(f"catalog-{i % 200}")),
    ),
]


def generate_document(n_lines, error_fraction=0.5, seed=0):
    """A protocol-v1 document of n_lines lines (two per donor), of which error_fraction
    carry one planted error each (see PLANTED); the rest pass every rule."""
    document = valid_document(n_lines, lines_per_donor=2, seed=seed)
    rng = random.Random(seed)
    broken = sorted(rng.sample(range(n_lines), int(n_lines * error_fraction)))
    for count, index in enumerate(broken):
        PLANTED[count % len(PLANTED)][1](document, index)
    return document


def _build_catalog(n_donors, n_lines_per_donor, institution):
    """Catalog holdings: donors and released lines of the depositing institution, with STR
    profiles in the search index, and some Cellosaurus references."""

    donors = Donor.objects.bulk_create(
        [
            Donor(
                code=f"BENCH-D{i:05d}",
                institution=institution,
                donor_number=f"{500 + i % 400:03d}" if i < 400 else "",
                sex="female",
                str_profile=normalise_profile(str_profile(f"catalog-{i}")),
            )
            for i in range(n_donors)
        ]
    )
    Consent.objects.bulk_create([Consent(donor=d) for d in donors])
    lines = []
    for i, donor in enumerate(donors):
        for clone in range(n_lines_per_donor):
            number = donor.donor_number or f"{i % 1000:03d}"
            lines.append(
                CellLine(
                    name=f"{institution.code}i{number}-{'ABCDEFGH'[clone]}"
                    if donor.donor_number
                    else f"BENCH-{i}-{clone}",
                    donor=donor,
                    institution=institution,
                    str_profile=donor.str_profile,
                    status="released",
                )
            )
    CellLine.objects.bulk_create(lines, batch_size=2000)
    ReferenceProfile.objects.bulk_create(
        [
            ReferenceProfile(
                accession=f"CVCL_B{i:03d}",
                name=f"Reference {i}",
                str_profile=normalise_profile(str_profile(f"cellosaurus-{i}")),
            )
            for i in range(300)
        ]
    )
    rebuild_index(chunk_size=5000)
    return len(lines)


def run(stdout, options):
    quick = options.get("quick")
    n_lines = 500 if quick else 10_000
    old_config = setup_databases(verbosity=0, interactive=False, aliases=["default"])
    try:
        _run(stdout, n_lines, quick)
    finally:
        teardown_databases(old_config, verbosity=0)


def _run(stdout, n_lines, quick):

    write = stdout.write
    institution = Institution.objects.create(code="UKB", name="Bench institute", country="Germany")
    protocol = ProtocolVersion.objects.get(number=1)
    catalog_lines = _build_catalog(200 if quick else 2000, 2, institution)
    forget_index()
    get_index()

    document = generate_document(n_lines, 0.5, seed=1)
    write(
        f"database: {connection.vendor}; document: {n_lines:,} lines ({n_lines // 2:,} with a planted error), "
        f"{len(document['donors']):,} donors; catalog: {catalog_lines:,} lines with STR, 300 references"
    )

    validator = schema_validator(protocol)  # compiled once per version, as in the worker
    # Floor and full run alternate, best of `repeats`, so a busy machine skews both alike.
    repeats = 1 if quick else 2  # --quick checks the harness once
    schema_seconds = full_seconds = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        schema_errors = list(validator.iter_errors(document))
        schema_seconds = min(schema_seconds, time.perf_counter() - started)

        progress = []
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            findings = validate_document(
                copy.deepcopy(document),
                protocol=protocol,
                institution=institution,
                on_progress=lambda done, total, calls=progress: calls.append(done),
            )
            full_seconds = min(full_seconds, time.perf_counter() - started)

    tracemalloc.start()
    validate_document(document, protocol=protocol, institution=institution)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    errors = sum(1 for f in findings if f["severity"] == "error")
    broken_lines = len({f["line"] for f in findings if f["severity"] == "error" and f["line"]})
    by_rule = {}
    for f in findings:
        by_rule[f["rule"]] = by_rule.get(f["rule"], 0) + 1
    write(f"schema only   {schema_seconds:8.2f} s   ({len(schema_errors):,} schema errors)")
    write(
        f"full          {full_seconds:8.2f} s   ({len(findings):,} findings, {errors:,} errors on "
        f"{broken_lines:,} lines; {len(queries.captured_queries)} queries; {len(progress)} progress calls)"
    )
    write(f"ratio         {full_seconds / schema_seconds:8.2f} x  (goal ≤ 5)")
    write(f"lines/s       {n_lines / full_seconds:8.0f}")
    write(f"peak memory   {peak / 2**20:8.1f} MiB (tracemalloc, validation of the {n_lines:,}-line document)")
    write("findings by rule: " + ", ".join(f"{rule} {count}" for rule, count in sorted(by_rule.items())))
