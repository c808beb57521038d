"""The 200,000-line catalog of the api bench, loaded with COPY (PostgreSQL only).

Imported by the bench child before Django is set up: app modules are imported
inside the functions."""

import io
import json
import random
import time


def _say(text=""):
    print(text, flush=True)


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
        add_clinical_and_stock(cursor)
        # VACUUM as well: the visibility map lets the planner answer counts by index-only scans.
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def add_clinical_and_stock(cursor):
    """The clinical course at sampling of every donor with a disease (ΔFS, King's
    stage, months from onset, cognitive status) and vials in stock for four released,
    distributed lines in five: what the cohort builder selects on (bench/cohorts.py).
    Derived from the ids, so every load gives the same catalog. Also each donor's
    affection status (donors.affection, the one rule: affected with a disease, else a
    carrier or a control), which COPY leaves at its default, unaffected."""
    from donors.affection import refresh_affection_status

    refresh_affection_status()
    cursor.execute(
        "UPDATE donors_donor SET progression_rate = ((id * 7919) % 250) / 100.0, "
        "sampling_months_from_onset = 6 + (id * 31) % 48, "
        "kings_stage_at_sampling = (ARRAY['1','2','3','4A','4B'])[1 + (id * 13) % 5], "
        "mitos_stage_at_sampling = (id * 17) % 4, "
        "cognitive_status = (ARRAY['normal','normal','ALSci','ALSbi','ALS-FTD'])[1 + (id * 11) % 5] "
        "WHERE disease <> ''"
    )
    cursor.execute(
        "UPDATE lines_cellline SET vials_in_stock = CASE WHEN id % 5 = 0 THEN 0 ELSE 1 + id % 12 END "
        "WHERE status = 'released' AND availability <> 'not_distributed'"
    )


def _b36(number):
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    text = ""
    for _ in range(3):
        number, digit = divmod(number, 36)
        text = digits[digit] + text
    return text
