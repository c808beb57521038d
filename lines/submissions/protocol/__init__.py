"""The PRISM line submission protocol: its versions, thresholds and rule table.

The rule table below is the single source of the rule ids: the validator
(lines.submissions.validation) raises findings only under ids listed here, and the
protocol page (/protocol/<n>/) is rendered from it. Thresholds are not read
from here at validation time but from the ProtocolVersion row a submission
names, so that changing a threshold is a new version and old submissions keep
being judged by the version they followed.
"""

import json
from functools import cache
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent

# Thresholds of version 1, each with where it comes from. Stored on
# ProtocolVersion(number=1).settings by a data migration.
V1_SETTINGS = {
    # ISCN: 400 bands per haploid set is the lowest resolution at which a
    # G-banded karyotype is reported as normal (CIRM/WiCell release criteria).
    "min_karyotype_bands": 400,
    # CIRM release criteria: gains/losses over 5 Mb on a SNP array fail.
    "max_cnv_mb": 5,
    # Flow cytometry: ≥70 % positive per undifferentiated-state marker.
    "min_flow_marker_percent": 70,
    "min_pluripotency_markers": 2,
    "nuclear_markers": ["OCT4", "NANOG", "SOX2"],
    "surface_markers": ["TRA-1-60", "TRA-1-81", "SSEA4", "SSEA3"],
    "germ_layers": ["ectoderm", "mesoderm", "endoderm"],
    # CLASTR reading: Tanabe ≥ 80 related (ambiguous 80–90), < 80 unrelated.
    "str_match_threshold": 80,
    "min_str_markers": 8,
    "alsfrs_r_min": 0,
    "alsfrs_r_max": 48,
    "passage_min": 1,
    "passage_max": 200,
    "max_lines": 10000,
    "max_name_length": 15,
    "core_tests": [
        "identity",
        "genomic_integrity",
        "mycoplasma",
        "sterility",
        "pluripotency",
        "trilineage",
    ],
    # Non-integrating but persisting vectors must be shown cleared (CIRM).
    "vector_methods": ["sendai", "episomal"],
    "viral_tests": ["HIV-1", "HIV-2", "HBV", "HCV"],
    # NRES, GRU, HMB, DS, POA: the DUO data use permissions.
    "permission_codes": ["DUO:0000004", "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000011"],
    "disease_specific_code": "DUO:0000007",
    # An `als` block makes sense under ALS and under FTD/ALS (and their subtypes).
    "als_disease_roots": ["MONDO:0004976", "MONDO:0030923"],
}

V1_IDENTIFIER = "prism-line-submission/1"

# Version 2 (issue 13) adds lots: a line may declare the lots it deposits, and a QC
# record may name its lot. The thresholds are version 1's; documents of version 1
# are still accepted (they name their version).
V2_SETTINGS = dict(V1_SETTINGS)
V2_IDENTIFIER = "prism-line-submission/2"

# Version 3 (issue 15) adds a donor's clinical course (visits with the 12 ALSFRS-R
# items, milestones, diagnostic certainty, cognitive status, HPO features); rules
# COURSE-1 to COURSE-4. Same thresholds; versions 1 and 2 are still accepted.
V3_SETTINGS = dict(V2_SETTINGS)
V3_IDENTIFIER = "prism-line-submission/3"

ERROR = "error"
WARNING = "warning"

# (id, severity, rule, example of what breaks it). Severity "error" may also
# raise warnings in the documented cases (e.g. DONOR-1 outside the vocabulary).
RULES = [
    (
        "SCHEMA",
        ERROR,
        "The document fails the JSON Schema (shape, types, enums); the location is the JSON pointer of the failing value.",
        '"sex": "F" instead of "female"; "passage_at_banking": "15" (a string); an unknown field such as "pasage".',
    ),
    (
        "REF-1",
        ERROR,
        "A line's donor, or a parental line, is neither in the document nor in the catalog.",
        'A line with "donor": "D9" when no donor has local_id D9 and no catalog donor has code D9.',
    ),
    (
        "REF-2",
        ERROR,
        "Two donors or two lines share a local_id.",
        'Two lines both with "local_id": "L1".',
    ),
    (
        "NAME-1",
        ERROR,
        "A given name breaks the hPSCreg pattern <institution><i|e><3-character donor number>-<clone letter>[-<subclone number>] or is over 15 characters.",
        '"name": "UKB-008-A" or "UKBi8-A".',
    ),
    (
        "NAME-2",
        ERROR,
        "The name's institution code is not the depositing institution's, or the type letter is not i (iPSC).",
        'UKB deposits "UCSFi001-A", or names an iPSC line "UKBe001-A".',
    ),
    (
        "NAME-3",
        ERROR,
        "The name is taken in the catalog, or lines of one donor carry different donor numbers, or one donor number is used for two donors.",
        '"UKBi001-A" when the catalog already holds UKBi001-A; lines of D1 named UKBi001-A and UKBi002-B.',
    ),
    (
        "NAME-4",
        ERROR,
        "A modified line (type other than none) is not named parent + -<n>, or its parent is itself a subclone.",
        'A knock-in from UKBi001-A named "UKBi001-B"; a subclone of "UKBi001-A-1" (numbering is flat: make it UKBi001-A-2).',
    ),
    (
        "DONOR-1",
        ERROR,
        "Disease is not a MONDO id (MONDO: + 7 digits); a warning if the id is outside the catalog's disease vocabulary.",
        '"disease": "ALS" or "MONDO:4976".',
    ),
    (
        "DONOR-2",
        ERROR,
        "Age at onset above age at sampling, ALSFRS-R outside 0–48, or an als block on a donor without an ALS-family disease.",
        'age_at_onset 60 with age_at_sampling 54; "alsfrs_r": 52; an als block on a Parkinson disease donor.',
    ),
    (
        "VAR-1",
        ERROR,
        "Gene is not an approved HGNC symbol; a previous symbol or alias is a warning naming the approved one.",
        '"gene": "SOD" (unknown) is an error; "gene": "ALS1" (previous symbol of SOD1) is a warning.',
    ),
    (
        "VAR-2",
        ERROR,
        "hgvs/protein is not well-formed HGVS: c./g./n./p. syntax, versioned accession form (NM_000454.5:c.14C>T), Met1-based protein numbering.",
        '"hgvs": "NM_000454:c.14C>T" (no version), "protein": "A4V" (legacy one-letter SOD1 name: write p.Ala5Val).',
    ),
    (
        "CONSENT-1",
        ERROR,
        "No DUO permission code (NRES, GRU, HMB, DS, POA), an unknown or obsolete DUO id, or DS without a disease.",
        '"codes": ["DUO:0000046"] (NCU alone, no permission); "codes": ["DUO:0000007"] with "disease": null.',
    ),
    (
        "CONSENT-2",
        ERROR,
        "Consent withdrawn: the donor's lines may not be deposited for distribution.",
        '"withdrawn_on": "2025-05-01" on a donor whose lines are in the document.',
    ),
    (
        "CONSENT-3",
        WARNING,
        "genetic_data is none while variants or STR are given (they stay curator-only).",
        '"genetic_data": "none" on a donor with variants.',
    ),
    (
        "LINE-1",
        ERROR,
        "A modified line has no parental line, or an unmodified line has one.",
        'A knock_out line with "parental_line": null.',
    ),
    (
        "LINE-2",
        ERROR,
        "derived_on is before consent was obtained, or QC is dated before derivation.",
        "derived_on 2024-12-01 with consent obtained_on 2025-01-10.",
    ),
    (
        "LINE-3",
        ERROR,
        "passage_at_banking outside 1–200, or a QC passage above it.",
        '"passage_at_banking": 0, or a karyotype at passage 30 of a line banked at passage 15.',
    ),
    (
        "QC-1",
        ERROR,
        "A core test is missing: identity, genomic_integrity, mycoplasma, sterility, pluripotency, trilineage; plus vector_clearance for sendai or episomal; plus viral screening (HIV-1, HIV-2, HBV, HCV) of the donor or the line.",
        "A Sendai-reprogrammed line without a vector_clearance record.",
    ),
    (
        "QC-2",
        ERROR,
        "Any core test has result fail; inconclusive is a warning.",
        'mycoplasma with "result": "fail".',
    ),
    (
        "QC-3",
        ERROR,
        "Pluripotency: fewer than 2 markers, no nuclear marker (OCT4, NANOG, SOX2) or no surface marker (TRA-1-60, TRA-1-81, SSEA4, SSEA3), or any flow marker below 70 % positive.",
        "Flow with OCT4 96 % and TRA-1-60 55 %.",
    ),
    (
        "QC-4",
        ERROR,
        "Genomic integrity: G-banding under 400 bands, an abnormal karyotype or a CNV over 5 Mb, unless marked donor_inherited: true (then a warning).",
        '"bands": 300; "karyotype": "47,XX,+12"; a 7 Mb gain.',
    ),
    (
        "QC-5",
        ERROR,
        "Trilineage does not cover all three germ layers.",
        '"germ_layers": ["ectoderm", "mesoderm"].',
    ),
    (
        "LOT-1",
        ERROR,
        "Version 2 and later: a line declares a lot code twice, or a QC record names a lot the line does not declare.",
        'Two lots "P001" on one line; a mycoplasma record with "lot": "P009" on a line declaring only P001.',
    ),
    (
        "LOT-2",
        ERROR,
        "Version 3: a vial id is listed twice in the document, or a lot lists more vials than its vials_made.",
        'Vial "UKB-V0001" on lots of two lines; "vials_made": 2 with three vials listed.',
    ),
    (
        "COURSE-1",
        ERROR,
        "Version 3: an ALSFRS-R item of a visit is outside 0–4, unknown or missing, or 5a and 5b are both answered.",
        '"alsfrs_r": {"3": 5, ...}; both "5a": 3 and "5b": 2 on one visit.',
    ),
    (
        "COURSE-2",
        ERROR,
        "Version 3: a visit or milestone is before onset, has no time (months_from_onset, or a date with onset_date), or a visit follows death.",
        '"months_from_onset": -3; a visit dated 2023-01-01 with onset_date 2023-06-01.',
    ),
    (
        "COURSE-3",
        ERROR,
        "Version 3: a typed King's or MiToS stage contradicts the stage the visit's ALSFRS-R items give.",
        '"kings_stage": "1" on a visit whose item 5b is answered (a gastrostomy: stage 4A).',
    ),
    (
        "COURSE-4",
        ERROR,
        "Version 3: a phenotypic feature is not an HPO id (HP: + 7 digits); a warning if outside the catalog's HPO or obsolete.",
        '"phenotypic_features": ["fasciculations"] instead of ["HP:0002380"].',
    ),
    (
        "STR-1",
        ERROR,
        "The identity STR profile has fewer than 8 scorable markers (Amelogenin not counted).",
        "An identity profile with D5S818, TH01, TPOX and Amelogenin only.",
    ),
    (
        "STR-2",
        ERROR,
        "The line's STR does not match its donor's (donor str_profile or another line of the same donor) or its parental line: Tanabe below 80 over non-empty markers.",
        "A line whose STR shares half its alleles with its donor profile (Tanabe 50).",
    ),
    (
        "STR-3",
        ERROR,
        "The line's STR matches a line of another donor in the catalog, or a Cellosaurus reference profile, at Tanabe ≥ 80: possible duplicate or misidentified line; the message names the match.",
        "A new donor line whose STR equals that of HeLa (CVCL_0030).",
    ),
    (
        "STR-4",
        WARNING,
        "Amelogenin disagrees with the donor's recorded sex.",
        'Amelogenin "X,Y" on a female donor.',
    ),
]

RULE_IDS = [rule_id for rule_id, *_ in RULES]
SEVERITY = {rule_id: severity for rule_id, severity, *_ in RULES}


@cache
def schema_for(number):
    """The JSON Schema file of protocol version `number` (as shipped in the project)."""
    path = SCHEMA_DIR / f"v{int(number)}.schema.json"
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def identifier_for(number):
    return f"prism-line-submission/{int(number)}"


def max_lines_of(version) -> int:
    """The most lines one submission under `version` (a ProtocolVersion) may hold:
    its `max_lines` setting. Intake refuses more, and the validation run re-checks
    once a spreadsheet is read in full."""
    return int((version.settings or {}).get("max_lines", V1_SETTINGS["max_lines"]))
