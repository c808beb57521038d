"""How holdings are shown to a user: plain dicts built from prefetched rows, shared
by the API, the exports and the web pages.

Plain functions rather than nested DRF serializers because a list page of 500
lines goes through them: they are several times faster, and the serializer
classes in lines/holdings/api.py and lines/holdings/donor_api.py still declare every field for the
OpenAPI schema (schemathesis checks the two agree).

What a user sees of a donor's genetic data (germline variants, STR profiles,
repeat sizes, identity QC details) is donors.disclosure's rule: open and not
withdrawn → everyone; controlled or none → curators only.
Engineered variants are the line's own edit and are shown with the line.
"""

from datetime import date
from urllib.parse import quote

from django.db.models import Q
from django.urls import reverse

from core.roles import is_curator
from core.spreadsheets import spreadsheet_safe
from donors import affection, duo
from donors.disclosure import consent_is_public, may_see_genetic_data
from donors.models import Consent, Variant
from lines.models import QCTest
from lines.qc import required_tests

QC_LABELS = dict(QCTest.choices)
# QC whose details are the donor's genotype: identity (STR/SNP alleles) and genomic
# integrity (karyotype, CNVs). Their details follow the consent's genetic-data level;
# mycoplasma, sterility, marker percentages or germ layers say nothing about the donor.
GENETIC_QC_TESTS = frozenset({QCTest.IDENTITY, QCTest.GENOMIC_INTEGRITY})
QC_ORDER = {test: index for index, test in enumerate(QCTest.values)}


class Viewer:
    """Who is looking, and the URL prefixes for links, computed once per request."""

    def __init__(self, request):
        self.request = request
        self.user = getattr(request, "user", None)
        self.curator = is_curator(self.user)
        build = request.build_absolute_uri if request is not None else (lambda path: path)
        self.line_base = build(reverse("api-line-list"))
        self.donor_base = build(reverse("api-donor-list"))

    def line_url(self, name):
        return f"{self.line_base}{quote(name, safe='')}/"

    def donor_url(self, code):
        return f"{self.donor_base}{quote(code, safe='')}/"

    def media_url(self, file):
        if not file:
            return None
        url = file.url
        return self.request.build_absolute_uri(url) if self.request is not None else url

    def sees_genetic_data(self, donor):
        """donors.disclosure's rule; None (a line without a donor) is curators only."""
        return may_see_genetic_data(self.user, donor)


def _blank_to_none(value):
    return value if value not in ("", None) else None


def disease(curie, label):
    """The donor's disease: a MONDO term, or, where the source's disease has no MONDO
    mapping (Cellosaurus' NCIt/ORDO names), the words as written, flagged unmapped.
    None for a healthy control."""
    if curie:
        return {"id": curie, "label": label, "mapped": True}
    if label:
        return {"id": None, "label": label, "mapped": False}
    return None


def registry_links(accession, hpscreg_name):
    """Links to the registries that hold the line: Cellosaurus (its RRID) where an
    accession is known, hPSCreg only where a registration is recorded (a name that
    merely follows hPSCreg's pattern is not a registration)."""
    return {
        "cellosaurus": f"https://www.cellosaurus.org/{accession}" if accession else None,
        "rrid": f"RRID:{accession}" if accession else None,
        "hpscreg": f"https://hpscreg.eu/cell-line/{quote(hpscreg_name, safe='')}" if hpscreg_name else None,
    }


def line_links(line):
    return registry_links(line.cellosaurus_accession, line.hpscreg_name)


def donor_summary(donor, viewer):
    if donor is None:
        return None
    return {
        "code": donor.code,
        "url": viewer.donor_url(donor.code),
        "sex": donor.sex,
        "age_at_sampling": donor.age_at_sampling,
        "ancestry": donor.ancestry,
        "disease": disease(donor.disease, donor.disease_label),
        "affection_status": affection.shown(donor.affection_status, viewer.sees_genetic_data(donor)),
        "family_history": _blank_to_none(donor.family_history),
        "onset_site": _blank_to_none(donor.onset_site),
    }


def donor_public_facts(donor, viewer):
    """Every fact of the donor the viewer may see (no names, no dates of birth exist)."""
    if donor is None:
        return None
    genetic = viewer.sees_genetic_data(donor)
    consent = getattr(donor, "consent", None)
    facts = donor_summary(donor, viewer)
    facts.update(
        {
            "institution": donor.institution.code if donor.institution_id else None,
            "age_at_onset": donor.age_at_onset,
            "alsfrs_r": donor.alsfrs_r,
            "alsfrs_r_date": donor.alsfrs_r_date.isoformat() if donor.alsfrs_r_date else None,
            "progression_rate": float(donor.progression_rate) if donor.progression_rate is not None else None,
            # Repeat sizes are genotypes: shown at the consent's genetic-data level.
            "c9orf72_repeats": donor.c9orf72_repeats if genetic else None,
            "atxn2_repeats": donor.atxn2_repeats if genetic else None,
            "clinical_data": donor.clinical_data or {},
            "genetic_data": consent.genetic_data if consent else "none",
            "genetic_data_shown": genetic,
        }
    )
    return facts


def variant_facts(variant):
    return {
        "gene": variant.gene,
        "hgnc_id": variant.hgnc_id or None,
        "hgvs": variant.hgvs or None,
        "protein": variant.protein or None,
        "legacy_name": variant.legacy_name or None,
        "zygosity": _blank_to_none(variant.zygosity),
        "classification": _blank_to_none(variant.classification),
        "origin": variant.origin,
        "repeat_size": variant.repeat_size,
    }


def visible_variants(line, viewer):
    """Engineered variants of the line plus the donor's germline variants where allowed."""
    variants = list(line.variants.all())
    if line.donor is not None and viewer.sees_genetic_data(line.donor):
        variants = list(line.donor.variants.all()) + variants
    return variants


def consent_terms(consent):
    """Who may use material under this consent: commercial or not, DUO codes, and the
    agreement conditions (donors.duo.conditions: the list and words of the eligibility answer)."""
    if consent is None:
        return None
    codes = sorted(consent.codes.all(), key=lambda term: term.curie)
    by_curie = {term.curie: term for term in codes}
    withdrawn = consent.withdrawn_on is not None

    def term(t):
        return {"curie": t.curie, "shorthand": t.shorthand or None, "label": t.label}

    return {
        "commercial_use": duo.allows_commercial_use(duo.ConsentFacts(frozenset(by_curie), consent.disease, withdrawn)),
        "not_for_profit_only": not set(by_curie).isdisjoint(duo.NOT_FOR_PROFIT_CODES),
        "codes": [term(t) for t in codes],
        "conditions": [
            {**term(by_curie[c.code]), "text": c.text, "curator_checks": c.curator_checks}
            for c in duo.conditions(by_curie)
        ],
        "disease_restriction": consent.disease or None,
        "genetic_data": consent.genetic_data,
        "withdrawn": withdrawn,
    }


# -- line summaries: one format, built from a flat row ------------------------------
# List pages and exports read these columns with .values() (no model instances, one
# query), then attach_page_facts() adds genes and consent codes (two more queries per
# page); line_summary(line) builds the same row from a model instance.
SUMMARY_COLUMNS = (
    "pk",
    "name",
    "alternative_names",
    "status",
    "availability",
    "qc_status",
    "stock_summary",
    "name_conforms",
    "hpscreg_name",
    "cellosaurus_accession",
    "source_cell_type",
    "source_cell_type_label",
    "reprogramming_method",
    "modification_type",
    "released_at",
    "derived_on",
    "created_at",
    "institution__code",
    "parental_line__name",
    "donor_id",
    "donor__code",
    "donor__sex",
    "donor__age_at_sampling",
    "donor__ancestry",
    "donor__disease",
    "donor__disease_label",
    "donor__family_history",
    "donor__onset_site",
    "donor__affection_status",
    "donor__consent__id",
    "donor__consent__genetic_data",
    "donor__consent__withdrawn_on",
)


def summary_rows(queryset):
    """Flat rows of every SUMMARY_COLUMNS value, as a values() queryset (joins, no instances)."""
    return queryset.values(*SUMMARY_COLUMNS)


def attach_page_facts(rows):
    """Genes (engineered and germline) and non-commercial consent codes for a page of
    rows: two queries whatever the page size."""
    line_ids = [row["pk"] for row in rows]
    donor_ids = {row["donor_id"] for row in rows if row["donor_id"]}
    consent_ids = {row["donor__consent__id"] for row in rows if row["donor__consent__id"]}
    by_line, by_donor, non_commercial = {}, {}, set()
    if line_ids:
        variants = Variant.objects.filter(Q(line_id__in=line_ids) | Q(donor_id__in=donor_ids))
        for gene, line_id, donor_id in variants.values_list("gene", "line_id", "donor_id"):
            if line_id is not None:
                by_line.setdefault(line_id, set()).add(gene)
            else:
                by_donor.setdefault(donor_id, set()).add(gene)
    if consent_ids:
        non_commercial = set(
            Consent.codes.through.objects.filter(
                consent_id__in=consent_ids, duoterm_id__in=duo.NON_COMMERCIAL_CODES
            ).values_list("consent_id", flat=True)
        )
    empty = frozenset()
    for row in rows:
        row["engineered_genes"] = by_line.get(row["pk"], empty)
        row["germline_genes"] = by_donor.get(row["donor_id"], empty)
        row["non_commercial"] = row["donor__consent__id"] in non_commercial
    return rows


def _row_from_line(line):
    donor = line.donor
    consent = getattr(donor, "consent", None) if donor is not None else None
    parental = getattr(line, "parental_name", None)
    if parental is None and line.parental_line_id and "parental_line" in line._state.fields_cache:
        parental = line.parental_line.name
    row = {
        "pk": line.pk,
        "name": line.name,
        "alternative_names": line.alternative_names,
        "status": line.status,
        "availability": line.availability,
        "qc_status": line.qc_status,
        "stock_summary": line.stock_summary,
        "name_conforms": line.name_conforms,
        "hpscreg_name": line.hpscreg_name,
        "cellosaurus_accession": line.cellosaurus_accession,
        "source_cell_type": line.source_cell_type,
        "source_cell_type_label": line.source_cell_type_label,
        "reprogramming_method": line.reprogramming_method,
        "modification_type": line.modification_type,
        "released_at": line.released_at,
        "institution__code": line.institution.code if line.institution_id else None,
        "parental_line__name": parental,
        "donor_id": line.donor_id,
        "donor__consent__id": consent.pk if consent else None,
        "donor__consent__genetic_data": consent.genetic_data if consent else None,
        "donor__consent__withdrawn_on": consent.withdrawn_on if consent else None,
        "engineered_genes": {v.gene for v in line.variants.all()},
        "germline_genes": {v.gene for v in donor.variants.all()} if donor is not None else set(),
        "non_commercial": bool(consent) and any(t.curie in duo.NON_COMMERCIAL_CODES for t in consent.codes.all()),
    }
    for field in (
        "code",
        "sex",
        "age_at_sampling",
        "ancestry",
        "disease",
        "disease_label",
        "family_history",
        "onset_site",
        "affection_status",
    ):
        row[f"donor__{field}"] = getattr(donor, field) if donor is not None else None
    return row


def _row_sees_genetic_data(row, viewer):
    return viewer.curator or consent_is_public(row["donor__consent__genetic_data"], row["donor__consent__withdrawn_on"])


def summary_from_row(row, viewer):
    genes = set(row["engineered_genes"])
    if row["donor_id"] and _row_sees_genetic_data(row, viewer):
        genes |= row["germline_genes"]
    has_consent = row["donor__consent__id"] is not None
    released = row["released_at"]
    donor = None
    if row["donor_id"]:
        code = row["donor__code"]
        disease_id = row["donor__disease"]
        donor = {
            "code": code,
            "url": viewer.donor_url(code),
            "sex": row["donor__sex"],
            "age_at_sampling": row["donor__age_at_sampling"],
            "ancestry": row["donor__ancestry"],
            "disease": disease(disease_id, row["donor__disease_label"]),
            "affection_status": affection.shown(row["donor__affection_status"], _row_sees_genetic_data(row, viewer)),
            "family_history": row["donor__family_history"] or None,
            "onset_site": row["donor__onset_site"] or None,
        }
    return {
        "name": row["name"],
        "url": viewer.line_url(row["name"]),
        "alternative_names": list(row["alternative_names"] or []),
        "status": row["status"],
        "availability": row["availability"],
        "qc_status": row["qc_status"],
        # Counts only: storage positions are the curators' (stock.availability keeps it).
        "stock": row["stock_summary"] or None,
        "commercial_use": (has_consent and row["donor__consent__withdrawn_on"] is None and not row["non_commercial"]),
        "institution": row["institution__code"],
        "donor": donor,
        "source_cell_type": (
            {"id": row["source_cell_type"], "label": row["source_cell_type_label"] or None}
            if row["source_cell_type"]
            else None
        ),
        "reprogramming_method": row["reprogramming_method"] or None,
        "modification_type": row["modification_type"],
        "parental_line": row["parental_line__name"],
        "genes": sorted(genes),
        "links": registry_links(row["cellosaurus_accession"], row["hpscreg_name"]),
        "released_at": released.isoformat() if released else None,
    }


def commercial_use(line):
    """The donor's consent stands and carries none of NCU, NPU, NPUNCU."""
    donor = line.donor
    consent = getattr(donor, "consent", None) if donor is not None else None
    if consent is None:
        return False
    codes = frozenset(term.curie for term in consent.codes.all())
    return duo.allows_commercial_use(duo.ConsentFacts(codes, consent.disease, consent.withdrawn_on is not None))


def line_summary(line, viewer):
    """The summary of one line (a model instance, relations loaded or not)."""
    return summary_from_row(_row_from_line(line), viewer)


def qc_summary(line, records, viewer):
    """The latest record of each test, required (core) tests first and always listed."""
    latest = {}
    for record in records:
        current = latest.get(record.test)
        if current is None or (record.tested_on or date.min, record.pk) > (
            current.tested_on or date.min,
            current.pk,
        ):
            latest[record.test] = record
    counts = {}
    for record in records:
        counts[record.test] = counts.get(record.test, 0) + 1
    required = required_tests(line)
    tests = []
    for test in sorted(set(required) | set(latest), key=lambda t: (t not in required, QC_ORDER.get(t, 99))):
        record = latest.get(test)
        tests.append(
            {
                "test": test,
                "label": QC_LABELS.get(test, test),
                "required": test in required,
                "result": record.result if record else None,
                "method": (record.method or None) if record else None,
                "tested_on": record.tested_on.isoformat() if record and record.tested_on else None,
                "passage": record.passage if record else None,
                "testing_lab": (record.testing_lab or None) if record else None,
                "document": viewer.media_url(record.document) if record else None,
                "records": counts.get(test, 0),
            }
        )
    return {"status": line.qc_status, "tests": tests}


def line_ref(line, viewer):
    return {"name": line.name, "url": viewer.line_url(line.name)}


def line_detail(line, viewer, *, parent, siblings, subclones, same_donor, qc_records):
    data = line_summary(line, viewer)
    donor = line.donor
    genetic = viewer.sees_genetic_data(donor)
    consent = getattr(donor, "consent", None) if donor is not None else None
    data.update(
        {
            "name_conforms": line.name_conforms,
            "hpscreg_name": line.hpscreg_name or None,
            "cellosaurus_accession": line.cellosaurus_accession or None,
            "donor": donor_public_facts(donor, viewer),
            "variants": [variant_facts(v) for v in visible_variants(line, viewer)],
            "germline_variants_shown": bool(donor is not None and viewer.sees_genetic_data(donor)),
            "modification": {
                "type": line.modification_type,
                "description": line.modification_description or None,
            },
            "isogenic": {
                "parent": line_ref(parent, viewer) if parent else None,
                "siblings": [line_ref(s, viewer) for s in siblings],
                "subclones": [line_ref(s, viewer) for s in subclones],
            },
            "same_donor": [line_ref(s, viewer) for s in same_donor],
            "qc": qc_summary(line, qc_records, viewer),
            "consent": consent_terms(consent),
            "str_profile": (line.str_profile or None) if genetic else None,
            "str_shown": genetic,
            "str_sources": str_sources(line) if genetic else None,
            "registry_parents": registry_parents(line),
            "derived_on": line.derived_on.isoformat() if line.derived_on else None,
            "passage_at_banking": line.passage_at_banking,
            "culture_medium": line.culture_medium or None,
            "culture_matrix": line.culture_matrix or None,
            "status_reason": line.status_reason or None,
            "disease_note": line.disease_note or None,
            "comments": line.comments or None,
        }
    )
    return data


def str_sources(line):
    """Who typed the profile and, where they disagree, which source reported which
    alleles (the versions the STR search scores, one per group of agreeing sources)."""
    conflicts = []
    for marker, versions in sorted((line.str_conflicts or {}).items()):
        for version in versions:
            alleles, sources = (
                (version.get("alleles", []), version.get("sources", [])) if isinstance(version, dict) else (version, [])
            )
            conflicts.append({"marker": marker, "alleles": list(alleles), "sources": list(sources)})
    return {"sources": list(line.str_sources or []), "disagreements": conflicts}


def registry_parents(line):
    """The parents the registry names (Cellosaurus HI), each with its accession and
    whether it is a line of this catalog: a fibroblast line such as HDF1388 is a
    reference, not lost because it cannot be requested here."""
    parent = line.parental_line if line.parental_line_id else None  # select_related by the views
    catalog_accession = parent.cellosaurus_accession if parent is not None else ""
    return [
        {
            "accession": p.get("accession") or None,
            "name": p.get("name") or None,
            "rrid": f"RRID:{p['accession']}" if p.get("accession") else None,
            "url": f"https://www.cellosaurus.org/{p['accession']}" if p.get("accession") else None,
            "in_catalog": bool(catalog_accession) and p.get("accession") == catalog_accession,
        }
        for p in line.registry_parents or ()
    ]


def qc_record(record, viewer):
    line = record.line
    genetic = record.test not in GENETIC_QC_TESTS or viewer.sees_genetic_data(line.donor)
    return {
        "id": record.pk,
        "line": line.name,
        "line_url": viewer.line_url(line.name),
        "test": record.test,
        "label": QC_LABELS.get(record.test, record.test),
        "result": record.result,
        "method": record.method or None,
        "tested_on": record.tested_on.isoformat() if record.tested_on else None,
        "passage": record.passage,
        "testing_lab": record.testing_lab or None,
        "document": viewer.media_url(record.document),
        "details": (record.details or {}) if genetic else None,
    }


# Flat columns of the CSV export, in order.
CSV_COLUMNS = [
    "name",
    "status",
    "availability",
    "qc_status",
    "commercial_use",
    "institution",
    "donor_code",
    "sex",
    "age_at_sampling",
    "ancestry",
    "disease_id",
    "disease_label",
    "family_history",
    "onset_site",
    "source_cell_type",
    "source_cell_type_label",
    "reprogramming_method",
    "modification_type",
    "parental_line",
    "genes",
    "alternative_names",
    "cellosaurus",
    "hpscreg",
    "released_at",
    "url",
]


def csv_row(summary):
    donor = summary["donor"] or {}
    disease_ = donor.get("disease") or {}
    cell = summary["source_cell_type"] or {}
    row = {
        "name": summary["name"],
        "status": summary["status"],
        "availability": summary["availability"],
        "qc_status": summary["qc_status"],
        "commercial_use": "yes" if summary["commercial_use"] else "no",
        "institution": summary["institution"],
        "donor_code": donor.get("code"),
        "sex": donor.get("sex"),
        "age_at_sampling": donor.get("age_at_sampling"),
        "ancestry": donor.get("ancestry"),
        "disease_id": disease_.get("id"),
        "disease_label": disease_.get("label"),
        "family_history": donor.get("family_history"),
        "onset_site": donor.get("onset_site"),
        "source_cell_type": cell.get("id"),
        "source_cell_type_label": cell.get("label"),
        "reprogramming_method": summary["reprogramming_method"],
        "modification_type": summary["modification_type"],
        "parental_line": summary["parental_line"],
        "genes": ";".join(summary["genes"]),
        "alternative_names": ";".join(summary["alternative_names"]),
        "cellosaurus": summary["links"]["cellosaurus"],
        "hpscreg": summary["links"]["hpscreg"],
        "released_at": summary["released_at"],
        "url": summary["url"],
    }
    return [spreadsheet_safe(row[c]) for c in CSV_COLUMNS]
