"""Documents and shortcuts for the submission pipeline tests (API, pages, worker).

`submission_document(lines=…, donors=…)` builds a protocol-v1 document that passes
every rule: each donor gets its own STR profile, each line the full QC panel with
the donor's profile as identity. Names are left empty (assigned on approval)."""

import contextlib
import copy
import json
import random

from lines.models import Submission
from lines.submissions.protocol.example import valid_document
from prism.celery import app as celery_app
from tests.conftest import client_for

MARKERS = [
    "CSF1PO",
    "D13S317",
    "D16S539",
    "D5S818",
    "D7S820",
    "TH01",
    "TPOX",
    "vWA",
    "D8S1179",
    "D21S11",
]
ALLELE_RANGE = {
    "D21S11": (27, 36),
    "vWA": (13, 20),
    "D8S1179": (9, 16),
    "TH01": (5, 10),
    "TPOX": (6, 12),
}


def str_profile(seed, sex="female"):
    """A plausible STR profile, different for each seed (Tanabe between seeds well under 80)."""
    rng = random.Random(seed * 7919 + 17)
    profile = {}
    for marker in MARKERS:
        low, high = ALLELE_RANGE.get(marker, (8, 14))
        a, b = sorted(rng.sample(range(low, high + 1), 2))
        profile[marker] = f"{a},{b}"
    profile["Amelogenin"] = "X" if sex == "female" else "X,Y"
    return profile


QC_PANEL = [
    {
        "test": "genomic_integrity",
        "method": "g_banding",
        "result": "pass",
        "bands": 450,
        "karyotype": "46,XX",
        "passage": 12,
        "date": "2025-09-02",
    },
    {"test": "mycoplasma", "method": "pcr", "result": "pass", "date": "2025-09-02"},
    {"test": "sterility", "method": "culture", "result": "pass", "date": "2025-09-02"},
    {
        "test": "pluripotency",
        "method": "flow",
        "result": "pass",
        "date": "2025-09-02",
        "markers": [
            {"marker": "OCT4", "percent_positive": 96.0},
            {"marker": "TRA-1-60", "percent_positive": 91.5},
        ],
    },
    {
        "test": "trilineage",
        "method": "immunostaining",
        "result": "pass",
        "date": "2025-09-02",
        "germ_layers": ["ectoderm", "mesoderm", "endoderm"],
    },
    {
        "test": "vector_clearance",
        "method": "rt_pcr",
        "result": "pass",
        "passage": 12,
        "date": "2025-09-02",
    },
]


def donor(index, *, seed=None):
    return {
        "local_id": f"D{index}",
        "sex": "female",
        "age_at_sampling": 54,
        "ancestry": "European",
        "disease": "MONDO:0004976",
        "als": {
            "family_history": "familial",
            "onset_site": "bulbar",
            "age_at_onset": 52,
            "alsfrs_r": 38,
            "alsfrs_r_date": "2025-03-01",
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
            "codes": ["DUO:0000006"],
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
        "str_profile": str_profile(index if seed is None else seed),
    }


def line(index, donor_index, *, profile):
    qc = copy.deepcopy(QC_PANEL)
    qc.insert(
        0,
        {
            "test": "identity",
            "method": "str",
            "result": "pass",
            "passage": 15,
            "date": "2025-09-02",
            "str_profile": dict(profile),
        },
    )
    return {
        "local_id": f"L{index}",
        "donor": f"D{donor_index}",
        "name": None,
        "parental_line": None,
        "modification": {"type": "none"},
        "source_cell_type": "CL:0000057",
        "reprogramming": {"method": "sendai"},
        "derived_on": "2025-06-01",
        "culture": {"medium": "mTeSR Plus", "matrix": "Matrigel", "passage_at_banking": 15},
        "cellosaurus": None,
        "qc": qc,
    }


@contextlib.contextmanager
def eager_celery():
    """Run Celery tasks in this process, whatever the broker setting."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


def submission_document(lines=1, donors=None, *, seed=0):
    """A valid document: `donors` donors (default: one per 100 lines) sharing `lines` lines.
    `seed` shifts every STR profile, so two documents with different seeds do not
    look like the same donors to STR-3. Built by the protocol's own example builder
    (lines.submissions.protocol.example)."""
    donors = donors or max(1, (lines + 99) // 100)
    per_donor = (lines + donors - 1) // donors
    return valid_document(lines, lines_per_donor=per_donor, seed=seed)


def as_bytes(document):
    return json.dumps(document).encode("utf-8")


def reload(submission):
    return Submission.objects.get(pk=submission.pk if hasattr(submission, "pk") else submission)


SUBMISSIONS_URL = "/api/v1/submissions/"


def detail(user, pk):
    """GET a submission's detail as `user`."""
    return client_for(user).get(f"{SUBMISSIONS_URL}{pk}/")


def approval_findings(user, pk):
    """(status, findings raised at approval) of a submission, as `user` reads them."""
    body = detail(user, pk).json()
    return body["status"], [f for f in body["findings"] if f.get("at_approval")]
