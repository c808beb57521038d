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

import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/prism_apibench"
BASE_DIR = Path(__file__).resolve().parent.parent.parent

FULL = {"lines": 200_000, "donors": 100_000, "qc_per_line": 7, "repeats": 40, "load_seconds": 30}
QUICK = {"lines": 2_000, "donors": 1_000, "qc_per_line": 7, "repeats": 8, "load_seconds": 5}
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


def run(stdout, options):
    """Entry point of `python -m bench --only api`: runs the child with the bench database."""
    url = os.environ.get("PRISM_APIBENCH_DATABASE_URL", DEFAULT_URL)
    if options.get("quick"):
        # Its own database, so that a quick check never replaces the full catalog.
        url += "_quick"
    env = dict(
        os.environ,
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="prism.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-only-secret-key-not-for-production",
        PRISM_APIBENCH_QUICK="1" if options.get("quick") else "0",
        # Every load-test client comes from 127.0.0.1: one anonymous address.
        THROTTLE_ANON="100000000/min",
        THROTTLE_USER="100000000/min",
        LOG_LEVEL="WARNING",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.api"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for line in process.stdout:
        stdout.write(line.rstrip("\n"))
    if process.wait() != 0:
        stdout.write(f"api bench failed (exit {process.returncode})")


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


def _text_value(value):
    """One value in PostgreSQL COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dict | list):
        value = json.dumps(value)
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy(cursor, model, columns, rows, batch=100_000):
    """COPY rows into the model's table. NOT NULL columns left out get the field default,
    so a column another issue adds later does not break the loader."""
    fields = [f for f in model._meta.concrete_fields if f.column not in columns and not f.primary_key]
    extra_columns, extra_values = [], []
    for field in fields:
        default = field.get_default()
        if default is None and not field.null:
            if field.get_internal_type() in ("DateTimeField",):
                from django.utils import timezone

                default = timezone.now().isoformat()
            else:
                raise RuntimeError(f"{model._meta.db_table}.{field.column} needs a value in the API bench loader")
        extra_columns.append(field.column)
        extra_values.append(_text_value(default))
    tail = ("\t" + "\t".join(extra_values)) if extra_values else ""
    sql = f"COPY {model._meta.db_table} ({', '.join(columns + extra_columns)}) FROM STDIN"
    buffer, count = io.StringIO(), 0
    for row in rows:
        buffer.write("\t".join(_text_value(v) for v in row) + tail + "\n")
        count += 1
        if count % batch == 0:
            buffer.seek(0)
            cursor.copy_expert(sql, buffer)
            buffer = io.StringIO()
    buffer.seek(0)
    cursor.copy_expert(sql, buffer)
    return count


ALS_GENES = [
    ("SOD1", "HGNC:11179", "NM_000454.5:c.14C>T", "p.Ala5Val", "A4V"),
    ("SOD1", "HGNC:11179", "NM_000454.5:c.272A>C", "p.Asp91Ala", "D90A"),
    ("C9orf72", "HGNC:28337", "", "", "G4C2 expansion"),
    ("FUS", "HGNC:4010", "NM_004960.4:c.1561C>T", "p.Arg521Cys", "R521C"),
    ("TARDBP", "HGNC:11571", "NM_007375.4:c.1009A>G", "p.Met337Val", "M337V"),
    ("TBK1", "HGNC:11584", "NM_013254.4:c.1340+1G>A", "", ""),
    ("OPTN", "HGNC:17142", "NM_021980.4:c.1243G>A", "p.Glu415Lys", ""),
    ("VCP", "HGNC:12666", "NM_007126.5:c.464G>A", "p.Arg155His", "R155H"),
    ("LRRK2", "HGNC:18618", "NM_198578.4:c.6055G>A", "p.Gly2019Ser", "G2019S"),
]
CORE = (
    "identity",
    "genomic_integrity",
    "mycoplasma",
    "sterility",
    "pluripotency",
    "trilineage",
    "vector_clearance",
)


def _load(sizes):
    """Bulk-load the catalog with COPY. Deterministic (seeded) so that runs compare."""
    import datetime

    from django.db import connection

    from core.models import DiseaseTerm, Institution
    from core.vocabulary import DISEASE_TERMS
    from donors.models import Consent, Donor, Variant
    from lines.models import CellLine, QCRecord

    rng = random.Random(20261125)
    n_lines, n_donors = sizes["lines"], sizes["donors"]
    started = time.perf_counter()
    als_terms = [(c, label) for c, label, _ in DISEASE_TERMS if "amyotrophic" in label]
    als_curies = {c for c, _ in als_terms}
    other_terms = [("MONDO:0005180", "Parkinson disease"), ("MONDO:0004975", "Alzheimer disease")]
    labels = dict(DiseaseTerm.objects.values_list("curie", "label"))
    now = datetime.datetime.now(datetime.UTC).isoformat()

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE lines_qcrecord, donors_variant, donors_consent_codes, donors_consent, lines_cellline, "
            "donors_donor, prism_institution RESTART IDENTITY CASCADE"
        )
        institutions = []
        for i in range(40):
            code = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(2, 5)))
            while code in {c for _, c in institutions}:
                code += "X"
            institutions.append((i + 1, code[:6]))
        _copy(
            cursor,
            Institution,
            ["id", "name", "country", "code", "city", "website"],
            ((pk, f"Institute {code}", "Germany", code, "", "") for pk, code in institutions),
        )

        donors, germline = [], []
        for pk in range(1, n_donors + 1):
            roll = rng.random()
            if roll < 0.7:
                disease, label = rng.choice(als_terms)
            elif roll < 0.8:
                disease, label = rng.choice(other_terms)
            else:
                disease, label = "", ""
            inst_pk, inst_code = institutions[pk % len(institutions)]
            age = rng.randint(18, 90)
            donors.append(
                (
                    pk,
                    f"PD{pk:06d}",
                    f"{pk % 46656:03d}"[-3:],
                    rng.choice(["female", "male"]),
                    age,
                    rng.choice(["European", "African", "East Asian", "South Asian", "Admixed American"]),
                    disease,
                    labels.get(disease, label),
                    rng.choice(["familial", "sporadic"]) if disease else "",
                    rng.choice(["bulbar", "spinal"]) if disease in als_curies else "",
                    max(age - 2, 0) if disease else None,
                    {},
                    {},
                    {},
                    now,
                    now,
                    inst_pk,
                )
            )
            if disease and rng.random() < 0.5:
                germline.append((pk, rng.choice(ALS_GENES)))
        # donor_number must be unique per institution: pk order makes (institution, number) unique
        # while donors per institution stay below 36**3.
        donors = [(d[0], d[1], _b36(d[0] // len(institutions)), *d[3:]) for d in donors]
        _copy(
            cursor,
            Donor,
            [
                "id",
                "code",
                "donor_number",
                "sex",
                "age_at_sampling",
                "ancestry",
                "disease",
                "disease_label",
                "family_history",
                "onset_site",
                "age_at_onset",
                "clinical_data",
                "viral_screening",
                "str_profile",
                "created_at",
                "updated_at",
                "institution_id",
            ],
            donors,
        )
        _say(f"  donors: {len(donors):,}")

        consent_rows, code_rows, genetic = [], [], {}
        for pk in range(1, n_donors + 1):
            level = rng.choices(["open", "controlled", "none"], [6, 3, 1])[0]
            genetic[pk] = level
            consent_rows.append((pk, "", level, False, "2024-01-10", None, "", "", pk))
            codes = [rng.choice(["DUO:0000042", "DUO:0000006"])]
            if rng.random() < 0.25:
                codes.append(rng.choice(["DUO:0000046", "DUO:0000045", "DUO:0000018"]))
            if rng.random() < 0.3:
                codes.append("DUO:0000021")
            code_rows += [(pk, code) for code in codes]
        _copy(
            cursor,
            Consent,
            [
                "id",
                "disease",
                "genetic_data",
                "recontact",
                "obtained_on",
                "withdrawn_on",
                "withdrawal_reason",
                "document_reference",
                "donor_id",
            ],
            consent_rows,
        )
        _copy(cursor, Consent.codes.through, ["consent_id", "duoterm_id"], code_rows)

        variant_rows, variant_pk = [], 0
        variants_of_donor = {}
        for donor_pk, (gene, hgnc, hgvs, protein, legacy) in germline:
            variant_pk += 1
            variant_rows.append(
                (
                    variant_pk,
                    gene,
                    hgnc,
                    hgvs,
                    protein,
                    legacy,
                    "heterozygous",
                    "pathogenic",
                    "germline",
                    None,
                    donor_pk,
                    None,
                )
            )
            variants_of_donor[donor_pk] = (gene, hgvs, protein, legacy)

        line_rows, qc_rows = [], []
        line_pk, qc_pk = 0, 0
        per_donor = max(n_lines // n_donors, 1)
        donor_by_pk = {d[0]: d for d in donors}
        inst_code = dict(institutions)
        for donor_pk in range(1, n_donors + 1):
            donor = donor_by_pk[donor_pk]
            parent_pk = None
            for clone in range(per_donor):
                line_pk += 1
                status = rng.choices(["released", "draft", "submitted", "withdrawn"], [90, 5, 3, 2])[0]
                subclone = clone > 0 and parent_pk is not None and rng.random() < 0.2
                letter = "ABCDEFGH"[clone]
                name = f"{inst_code[donor[-1]]}i{donor[2]}-{letter}"
                modification = "none"
                parental = None
                if subclone:
                    name = f"{inst_code[donor[-1]]}i{donor[2]}-A-{clone}"
                    modification = rng.choice(["knock_in", "gene_correction", "knock_out"])
                    parental = parent_pk
                engineered = None
                if subclone and rng.random() < 0.7:
                    variant_pk += 1
                    engineered = rng.choice(ALS_GENES)
                    variant_rows.append(
                        (
                            variant_pk,
                            engineered[0],
                            engineered[1],
                            engineered[2],
                            engineered[3],
                            engineered[4],
                            "homozygous",
                            "pathogenic",
                            "engineered",
                            None,
                            None,
                            line_pk,
                        )
                    )
                qc_results = ["pass"] * len(CORE)
                if rng.random() < 0.15:
                    qc_results[rng.randrange(len(CORE))] = rng.choice(["fail", "inconclusive"])
                qc_status = (
                    "passed"
                    if all(r == "pass" for r in qc_results)
                    else ("failed" if "fail" in qc_results else "incomplete")
                )
                for test, result in zip(CORE, qc_results, strict=True):
                    qc_pk += 1
                    qc_rows.append((qc_pk, test, "standard", result, {}, 12, "2024-09-01", "", "", line_pk))
                words = [name.lower(), donor[1].lower(), donor[6].lower(), donor[7].lower()]
                restricted = []
                germ = variants_of_donor.get(donor_pk)
                if germ:
                    text = [w.lower() for w in (germ[0], germ[1], germ[2], germ[3]) if w]
                    (words if genetic[donor_pk] == "open" else restricted).extend(text)
                if engineered:
                    words += [w.lower() for w in engineered[:5] if w and not w.startswith("HGNC")]
                released = f"2025-{1 + line_pk % 12:02d}-{1 + line_pk % 28:02d}T00:00:00+00:00"
                line_rows.append(
                    (
                        line_pk,
                        name,
                        [],
                        True,
                        None,
                        "",
                        "CL:0000057",
                        "fibroblast",
                        rng.choice(["sendai", "episomal", "mrna", "lentivirus"]),
                        "2024-06-01",
                        modification,
                        "",
                        "",
                        "",
                        15,
                        status,
                        "Withdrawn for the benchmark" if status == "withdrawn" else "",
                        rng.choice(["available", "restricted", "not_distributed"]),
                        qc_status,
                        {},
                        {},
                        "",
                        "",
                        released if status == "released" else None,
                        now,
                        now,
                        donor_pk,
                        donor[-1],
                        parental,
                        " | ".join(words),
                        " | ".join(restricted),
                    )
                )
                if clone == 0:
                    parent_pk = line_pk
                if line_pk >= n_lines:
                    break
            if line_pk >= n_lines:
                break
        _copy(
            cursor,
            CellLine,
            [
                "id",
                "name",
                "alternative_names",
                "name_conforms",
                "cellosaurus_accession",
                "hpscreg_name",
                "source_cell_type",
                "source_cell_type_label",
                "reprogramming_method",
                "derived_on",
                "modification_type",
                "modification_description",
                "culture_medium",
                "culture_matrix",
                "passage_at_banking",
                "status",
                "status_reason",
                "availability",
                "qc_status",
                "str_profile",
                "str_conflicts",
                "disease_note",
                "comments",
                "released_at",
                "created_at",
                "updated_at",
                "donor_id",
                "institution_id",
                "parental_line_id",
                "search_text",
                "search_text_restricted",
            ],
            line_rows,
        )
        _say(f"  lines: {len(line_rows):,}")
        _copy(
            cursor,
            Variant,
            [
                "id",
                "gene",
                "hgnc_id",
                "hgvs",
                "protein",
                "legacy_name",
                "zygosity",
                "classification",
                "origin",
                "repeat_size",
                "donor_id",
                "line_id",
            ],
            variant_rows,
        )
        _say(f"  variants: {len(variant_rows):,}")
        _copy(
            cursor,
            QCRecord,
            [
                "id",
                "test",
                "method",
                "result",
                "details",
                "passage",
                "tested_on",
                "testing_lab",
                "document",
                "line_id",
            ],
            qc_rows,
        )
        _say(f"  QC records: {len(qc_rows):,}")
        for table in (
            "prism_institution",
            "donors_donor",
            "donors_consent",
            "donors_variant",
            "lines_cellline",
            "lines_qcrecord",
            "donors_consent_codes",
        ):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def _b36(number):
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    text = ""
    for _ in range(3):
        number, digit = divmod(number, 36)
        text = digits[digit] + text
    return text


# -- floors: one hand-written SQL query per request ------------------------------------------
_PAGE_SQL = """
SELECT l.name, l.alternative_names, l.status, l.availability, l.qc_status, l.modification_type,
       l.reprogramming_method, l.source_cell_type, l.source_cell_type_label, l.cellosaurus_accession,
       l.released_at, i.code AS institution, p.name AS parental_line,
       d.code AS donor_code, d.sex, d.age_at_sampling, d.ancestry, d.disease, d.disease_label,
       d.family_history, d.onset_site,
       (c.id IS NOT NULL AND c.withdrawn_on IS NULL AND NOT EXISTS (
            SELECT 1 FROM donors_consent_codes cc WHERE cc.consent_id = c.id
            AND cc.duoterm_id IN ('DUO:0000046', 'DUO:0000045', 'DUO:0000018'))) AS commercial_use,
       ARRAY(SELECT v.gene FROM donors_variant v WHERE v.line_id = l.id
             UNION
             SELECT v.gene FROM donors_variant v
             WHERE v.donor_id = l.donor_id AND c.genetic_data = 'open' AND c.withdrawn_on IS NULL
             ORDER BY 1) AS genes
FROM lines_cellline l
LEFT JOIN donors_donor d ON d.id = l.donor_id
LEFT JOIN donors_consent c ON c.donor_id = d.id
LEFT JOIN prism_institution i ON i.id = l.institution_id
LEFT JOIN lines_cellline p ON p.id = l.parental_line_id
WHERE l.status = 'released' {where}
ORDER BY {order}
LIMIT 51
"""
_GENE_OPEN = """(l.id IN (SELECT v.line_id FROM donors_variant v WHERE v.gene = 'SOD1' AND v.line_id IS NOT NULL)
  OR (l.donor_id IN (SELECT v.donor_id FROM donors_variant v WHERE v.gene = 'SOD1' AND v.donor_id IS NOT NULL)
      AND c.genetic_data = 'open' AND c.withdrawn_on IS NULL))"""
_ALS_SUBTYPES = (
    "(SELECT curie FROM prism_diseaseterm WHERE curie = 'MONDO:0004976' OR ancestors::text LIKE '%\"MONDO:0004976\"%')"
)
# Constant SQL written here, no user input: the floors of the comparison.
FLOORS = {  # noqa: S608
    "default list": _PAGE_SQL.format(where="", order="l.name"),
    "filter: ALS + female + QC passed": _PAGE_SQL.format(
        where=f"AND d.disease IN {_ALS_SUBTYPES} AND d.sex = 'female' AND l.qc_status = 'passed'",
        order="l.name",
    ),
    "filter: SOD1 + commercial, newest first": _PAGE_SQL.format(
        where=f"AND {_GENE_OPEN} AND c.withdrawn_on IS NULL AND NOT EXISTS (SELECT 1 FROM donors_consent_codes cc "  # noqa: S608
        "WHERE cc.consent_id = c.id AND cc.duoterm_id IN ('DUO:0000046', 'DUO:0000045', 'DUO:0000018'))",
        order="l.released_at DESC NULLS LAST, l.id DESC",
    ),
    "filter: European 40-60 Sendai isogenic": _PAGE_SQL.format(
        where="AND d.ancestry = 'European' AND d.age_at_sampling BETWEEN 40 AND 60 "
        "AND l.reprogramming_method = 'sendai' AND (EXISTS (SELECT 1 FROM lines_cellline pp "
        "WHERE pp.id = l.parental_line_id AND pp.status = 'released') OR EXISTS (SELECT 1 FROM "
        "lines_cellline s WHERE s.parental_line_id = l.id AND s.status = 'released'))",
        order="l.name",
    ),
    "search: 'tardbp m337v'": _PAGE_SQL.format(
        where="AND l.search_text LIKE '%tardbp%' AND l.search_text LIKE '%m337v%'", order="l.name"
    ),
    "facets: ALS": f"""
WITH f AS (SELECT l.id, l.donor_id, l.reprogramming_method, l.modification_type, l.qc_status, l.availability,
                  d.sex, d.ancestry, d.disease, d.disease_label, i.code AS institution
           FROM lines_cellline l LEFT JOIN donors_donor d ON d.id = l.donor_id
           LEFT JOIN prism_institution i ON i.id = l.institution_id
           WHERE l.status = 'released' AND d.disease IN {_ALS_SUBTYPES})
SELECT 'disease', disease, COUNT(*) FROM f GROUP BY disease
UNION ALL SELECT 'sex', sex, COUNT(*) FROM f GROUP BY sex
UNION ALL SELECT 'ancestry', ancestry, COUNT(*) FROM f GROUP BY ancestry
UNION ALL SELECT 'reprogramming_method', reprogramming_method, COUNT(*) FROM f GROUP BY reprogramming_method
UNION ALL SELECT 'modification_type', modification_type, COUNT(*) FROM f GROUP BY modification_type
UNION ALL SELECT 'qc_status', qc_status, COUNT(*) FROM f GROUP BY qc_status
UNION ALL SELECT 'availability', availability, COUNT(*) FROM f GROUP BY availability
UNION ALL SELECT 'institution', institution, COUNT(*) FROM f GROUP BY institution
UNION ALL SELECT 'gene', g.gene, COUNT(DISTINCT g.id) FROM (
    SELECT v.gene, f.id FROM f JOIN donors_variant v ON v.line_id = f.id
    UNION ALL SELECT v.gene, f.id FROM f JOIN donors_consent c ON c.donor_id = f.donor_id
        AND c.genetic_data = 'open' AND c.withdrawn_on IS NULL
    JOIN donors_variant v ON v.donor_id = f.donor_id) g GROUP BY g.gene
""",  # noqa: S608
}


def _floor(cursor, sql):
    import orjson

    cursor.execute(sql)
    columns = [c[0] for c in cursor.description]
    rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return orjson.dumps(rows, default=str), len(rows)


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _measure(sizes):
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
                start = time.perf_counter()
                response = client.get(path)
                api_times.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                _, floor_rows = _floor(cursor, FLOORS[label])
                floor_times.append((time.perf_counter() - start) * 1000)
        api_med, floor_med = statistics.median(api_times), statistics.median(floor_times)
        ratio = api_med / floor_med if floor_med else float("inf")
        results.append((label, api_med, ratio))
        label = f"{label} (n={len(api_times)})"
        _say(
            f"{label:48} {api_med:8.1f} {_percentile(api_times, 0.95):8.1f} {floor_med:9.1f} "
            f"{_percentile(floor_times, 0.95):9.1f} {ratio:5.2f}x  {rows}/{floor_rows}"
        )
    _say(
        "(times in ms; ratio = API median / floor median; rows = API items / floor rows, the floor "
        "fetching one more row for the next cursor)"
    )
    return results


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
        # Warm every worker's connections and caches.
        for _label, path in REQUESTS * 3:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()

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
    results = _measure(sizes)
    phases = [
        ("the six requests in turn", [path for _, path in REQUESTS]),
        ("the default list page only", [REQUESTS[0][1]]),
    ]
    loads = []
    for title, paths in phases:
        load = _load_test(sizes["load_seconds"], paths)
        loads.append(load)
        _say()
        _say(
            f"load, {title}: {CLIENTS} clients x {load['seconds']:.1f} s against gunicorn on "
            f"127.0.0.1:{load['port']} (3 workers x 8 threads): {load['requests']:,} requests, "
            f"{load['rps']:.1f} req/s, errors {load['errors']}, latency median {load['median']:.1f} ms, "
            f"p95 {load['p95']:.1f} ms"
        )
        if load["errors"]:
            _say(f"  statuses: {load['statuses']}")
    errors = sum(load["errors"] for load in loads)
    within = all(ratio <= 3 for _, _, ratio in results)
    list_median = results[0][1]
    _say()
    _say(
        f"goals: every request within 3x its floor: {'yes' if within else 'NO'}; median default list page "
        f"{list_median:.1f} ms (< 50 ms: {'yes' if list_median < 50 else 'NO'}); "
        f"zero errors under load: {'yes' if not errors else 'NO'}"
    )


if __name__ == "__main__":
    main()
