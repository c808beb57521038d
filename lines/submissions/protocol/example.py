"""Valid example documents of protocol v1: the page's example, the templates' example
rows, the tests' base document (tests/documents.py) and the benchmark's generator.

Everything here passes every rule against the built-in vocabularies, so a test
or a benchmark breaks one rule at a time by editing a copy.
"""

import copy
import random

STR_MARKERS = (
    "CSF1PO",
    "D2S1338",
    "D3S1358",
    "D5S818",
    "D7S820",
    "D8S1179",
    "D13S317",
    "D16S539",
    "D18S51",
    "D19S433",
    "D21S11",
    "FGA",
    "TH01",
    "TPOX",
    "vWA",
)
# Plausible allele ranges per marker (repeat counts), so generated profiles look real.
_ALLELE_RANGES = {
    "CSF1PO": (7, 15),
    "D2S1338": (15, 27),
    "D3S1358": (12, 19),
    "D5S818": (7, 15),
    "D7S820": (6, 14),
    "D8S1179": (8, 17),
    "D13S317": (8, 15),
    "D16S539": (8, 15),
    "D18S51": (10, 23),
    "D19S433": (11, 17),
    "D21S11": (27, 34),
    "FGA": (18, 27),
    "TH01": (6, 10),
    "TPOX": (6, 12),
    "vWA": (14, 20),
}


def str_profile(seed, sex="female"):
    """A deterministic, realistic-looking STR profile (15 markers plus Amelogenin).

    Different seeds give profiles far below Tanabe 80 of each other: alleles are
    drawn from the upper part of each range, so they also stay clear of the common
    alleles of Cellosaurus reference lines."""
    rng = random.Random(f"str-{seed}")
    profile = {}
    for marker in STR_MARKERS:
        low, high = _ALLELE_RANGES[marker]
        alleles = sorted({rng.randint(low, high), rng.randint(low, high)})
        profile[marker] = ",".join(str(a) for a in alleles)
    profile["Amelogenin"] = "X" if sex == "female" else "X,Y"
    return profile


def donor(local_id="D1", *, seed=None, sex="female"):
    return {
        "local_id": local_id,
        "sex": sex,
        "age_at_sampling": 54,
        "ancestry": "European",
        "disease": "MONDO:0004976",
        "als": {
            "family_history": "familial",
            "onset_site": "bulbar",
            "age_at_onset": 52,
            "alsfrs_r": 38,
            "alsfrs_r_date": "2025-03-01",
            "c9orf72_repeats": None,
        },
        "variants": [
            {
                "gene": "SOD1",
                "hgvs": "NM_000454.5:c.14C>T",
                "protein": "p.Ala5Val",
                "zygosity": "heterozygous",
                "classification": "pathogenic",
            }
        ],
        "consent": {
            "codes": ["DUO:0000006", "DUO:0000046"],
            "disease": None,
            "genetic_data": "controlled",
            "recontact": True,
            "obtained_on": "2025-01-10",
            "withdrawn_on": None,
        },
        "viral_screening": {
            "HIV-1": "negative",
            "HIV-2": "negative",
            "HBV": "negative",
            "HCV": "negative",
        },
        "str_profile": str_profile(seed if seed is not None else local_id, sex),
    }


def qc_panel(profile, *, passage=15):
    return [
        {
            "test": "identity",
            "method": "str",
            "result": "pass",
            "passage": passage,
            "date": "2025-09-02",
            "str_profile": copy.deepcopy(profile),
        },
        {
            "test": "genomic_integrity",
            "method": "g_banding",
            "result": "pass",
            "passage": passage,
            "date": "2025-09-03",
            "bands": 450,
            "karyotype": "46,XY" if "Y" in profile.get("Amelogenin", "") else "46,XX",
        },
        {"test": "mycoplasma", "method": "pcr", "result": "pass", "date": "2025-09-01"},
        {"test": "sterility", "method": "culture", "result": "pass", "date": "2025-09-01"},
        {
            "test": "pluripotency",
            "method": "flow",
            "result": "pass",
            "date": "2025-09-04",
            "markers": [
                {"marker": "OCT4", "percent_positive": 96.0},
                {"marker": "TRA-1-60", "percent_positive": 91.5},
            ],
        },
        {
            "test": "trilineage",
            "method": "immunostaining",
            "result": "pass",
            "date": "2025-09-10",
            "germ_layers": ["ectoderm", "mesoderm", "endoderm"],
        },
        {
            "test": "vector_clearance",
            "method": "rt_pcr",
            "result": "pass",
            "passage": 12,
            "date": "2025-08-20",
        },
    ]


def line(
    local_id="L1",
    donor_id="D1",
    profile=None,
    *,
    name=None,
    parental_line=None,
    modification=None,
    passage=15,
):
    profile = profile if profile is not None else str_profile(donor_id)
    return {
        "local_id": local_id,
        "donor": donor_id,
        "name": name,
        "parental_line": parental_line,
        "modification": modification or {"type": "none"},
        "source_cell_type": "CL:0000057",
        "reprogramming": {"method": "sendai"},
        "derived_on": "2025-06-01",
        "culture": {"medium": "mTeSR Plus", "matrix": "Matrigel", "passage_at_banking": passage},
        "cellosaurus": None,
        "qc": qc_panel(profile, passage=passage),
    }


def valid_document(n_lines=1, *, lines_per_donor=1, protocol="prism-line-submission/1", seed=0):
    """A document that passes every rule: n_lines lines, lines_per_donor per donor
    (D1, D2 …; L1, L2 …), names left for the catalog to assign."""
    donors, lines = [], []
    for number in range(1, n_lines + 1):
        donor_number = (number - 1) // max(lines_per_donor, 1) + 1
        donor_id = f"D{donor_number}"
        if not donors or donors[-1]["local_id"] != donor_id:
            donors.append(donor(donor_id, seed=f"{seed}-{donor_number}"))
        lines.append(line(f"L{number}", donor_id, donors[-1]["str_profile"]))
    return {"protocol": protocol, "donors": donors, "lines": lines}


EXAMPLE_DOCUMENT = valid_document(1)
