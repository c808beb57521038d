"""The template's sheets and columns (with the description each column's help row
shows), the README that ships with it, and how a problem names its place."""

from lines.str.matching import CORE_MARKERS

SHEETS = ("donors", "variants", "lines", "qc", "lots", "vials")
STR_PREFIX = "str_profile."
# One column per core STR marker (CLASTR's 18, lines.str.matching).
STR_COLUMNS = {f"{STR_PREFIX}{marker}": ("alleles", "Alleles, e.g. 11,12") for marker in CORE_MARKERS}
VIRAL_PREFIX = "viral_screening."
VIRUSES = ("HIV-1", "HIV-2", "HBV", "HCV")
FORMATS = ("json", "csv", "xlsx")

# Column → (kind, description). Kinds: text, int, number, bool, date, list, markers, cnvs.
COLUMNS = {
    "donors": {
        "local_id": ("text", "Unique id of the donor in this file, e.g. D1"),
        "sex": ("text", "female | male | unknown | undifferentiated"),
        "age_at_sampling": ("int", "Whole years"),
        "ancestry": (
            "text",
            "African | Admixed American | East Asian | European | Middle Eastern | South Asian | Oceanian | unknown",
        ),
        "disease": ("text", "MONDO id, e.g. MONDO:0004976 (empty for a healthy control)"),
        "als.family_history": ("text", "familial | sporadic | unknown"),
        "als.onset_site": ("text", "bulbar | spinal | respiratory | generalized | unknown"),
        "als.age_at_onset": ("int", "Whole years"),
        "als.alsfrs_r": ("int", "0–48"),
        "als.alsfrs_r_date": ("date", "YYYY-MM-DD"),
        "als.progression_rate": ("number", "ALSFRS-R points lost per month"),
        "als.c9orf72_repeats": ("int", "G4C2 repeat count"),
        "als.atxn2_repeats": ("int", "CAG repeat count"),
        "consent.codes": ("list", "DUO CURIEs separated by ;  e.g. DUO:0000006; DUO:0000046"),
        "consent.disease": (
            "text",
            "MONDO id of the consented disease (needed with DS, DUO:0000007)",
        ),
        "consent.genetic_data": ("text", "open | controlled | none"),
        "consent.recontact": ("bool", "yes | no"),
        "consent.obtained_on": ("date", "YYYY-MM-DD"),
        "consent.withdrawn_on": ("date", "YYYY-MM-DD (empty unless withdrawn)"),
        "consent.withdrawal_reason": ("text", ""),
        "consent.document_reference": ("text", "Consent form version or id"),
        **{f"{VIRAL_PREFIX}{virus}": ("text", "negative | positive | inconclusive | not_tested") for virus in VIRUSES},
        **STR_COLUMNS,
    },
    "variants": {
        "donor": ("text", "Donor local_id (a germline variant of the donor)"),
        "line": (
            "text",
            "Line local_id (a variant made by the line's gene edit); fill donor or line",
        ),
        "gene": ("text", "Approved HGNC symbol, e.g. SOD1"),
        "hgvs": ("text", "e.g. NM_000454.5:c.14C>T"),
        "protein": ("text", "e.g. p.Ala5Val (HGVS counts Met1: SOD1 A4V is p.Ala5Val)"),
        "legacy_name": ("text", "e.g. A4V"),
        "zygosity": ("text", "heterozygous | homozygous | hemizygous | compound_heterozygous"),
        "classification": (
            "text",
            "pathogenic | likely_pathogenic | uncertain | likely_benign | benign | risk_factor",
        ),
        "repeat_size": ("int", "For repeat expansions"),
    },
    "lines": {
        "local_id": ("text", "Unique id of the line in this file, e.g. L1"),
        "donor": ("text", "Donor local_id in this file, or a catalog donor code"),
        "name": ("text", "hPSCreg name, e.g. UKBi001-A; empty to have one assigned on approval"),
        "parental_line": ("text", "Line local_id or catalog line name (modified lines only)"),
        "modification.type": (
            "text",
            "none | knock_in | knock_out | gene_correction | reporter | other",
        ),
        "modification.gene": ("text", "Edited gene (HGNC symbol)"),
        "modification.description": ("text", ""),
        "source_cell_type": ("text", "Cell Ontology id, e.g. CL:0000057 (fibroblast)"),
        "reprogramming.method": (
            "text",
            "sendai | episomal | mrna | lentivirus | retrovirus | other",
        ),
        "reprogramming.description": ("text", ""),
        "derived_on": ("date", "YYYY-MM-DD"),
        "culture.medium": ("text", "e.g. mTeSR Plus"),
        "culture.matrix": ("text", "e.g. Matrigel"),
        "culture.passage_at_banking": ("int", "1–200"),
        "cellosaurus": ("text", "e.g. CVCL_1234"),
        **{f"{VIRAL_PREFIX}{virus}": ("text", "negative | positive | inconclusive | not_tested") for virus in VIRUSES},
        "comments": ("text", ""),
    },
    "qc": {
        "line": ("text", "Line local_id"),
        "test": (
            "text",
            "identity | genomic_integrity | mycoplasma | sterility | pluripotency | trilineage | vector_clearance | viral_screening | post_thaw",
        ),
        "method": (
            "text",
            "e.g. str, g_banding, snp_array, pcr, culture, flow, immunostaining, rt_pcr",
        ),
        "result": ("text", "pass | fail | inconclusive"),
        "lot": ("text", "Code of the line's lot the test was made on (protocol 2; see the lots sheet)"),
        "passage": ("int", "Passage tested"),
        "date": ("date", "YYYY-MM-DD"),
        "testing_lab": ("text", ""),
        "notes": ("text", ""),
        "bands": ("int", "G-banding resolution (≥ 400)"),
        "karyotype": ("text", "e.g. 46,XX"),
        "donor_inherited": ("bool", "yes if the abnormality is also in the donor"),
        "cnvs": ("cnvs", "chromosome:type:size_mb[:inherited]; …  e.g. 20:gain:7.5"),
        "markers": ("markers", "marker=percent; …  e.g. OCT4=96; TRA-1-60=91.5"),
        "germ_layers": ("list", "ectoderm; mesoderm; endoderm"),
        **{f"{VIRAL_PREFIX}{virus}": ("text", "negative | positive | inconclusive | not_tested") for virus in VIRUSES},
        **STR_COLUMNS,
    },
    # Protocol 2: the banked lots of each line (the bank ships vials of lots).
    "lots": {
        "line": ("text", "Line local_id"),
        "code": ("text", "The lot's name within the line, e.g. P001"),
        "type": ("text", "bank | depositor (who expanded it)"),
        "accession": ("text", "BioSamples accession of the lot, e.g. SAMEA1234567"),
        "passage": ("int", "Passage at freezing, 1–200"),
        "frozen_on": ("date", "YYYY-MM-DD"),
        "medium": ("text", "e.g. mTeSR Plus"),
        "matrix": ("text", "e.g. Matrigel"),
        "cryo_medium": ("text", "e.g. CryoStor CS10"),
        "vials_made": ("int", "Number of vials frozen"),
        "freezing_method": ("text", "e.g. controlled-rate freezer"),
        "thaw_recommendation": ("text", "e.g. thaw into one well of a 6-well plate with ROCK inhibitor"),
    },
    # Protocol 3: the vials of a lot the depositor sends (the JSON document's lot "vials").
    "vials": {
        "line": ("text", "Line local_id"),
        "lot": ("text", "The lot's code, as in the lots sheet (e.g. P001)"),
        "id": ("text", "The vial's identifier (printed barcode or BioSamples accession), unique in the bank"),
        "name": ("text", "Optional name of the vial"),
    },
}
# The key that ties a row to its parent, per sheet.
KEYS = {"donors": "local_id", "variants": None, "lines": "local_id", "qc": "line", "lots": "line", "vials": "line"}
# A document using these sheets or columns follows protocol 2 (lots); else protocol 1.
V2_PROTOCOL = "prism-line-submission/2"
# A document with vials rows follows protocol 3 (a lot's vials, rule LOT-2).
V3_PROTOCOL = "prism-line-submission/3"


class TemplateError(ValueError):
    """The upload cannot be read as a submission. `findings` lists every problem found,
    each a finding dict (rule SCHEMA) whose location names the sheet, row and column."""

    def __init__(self, findings):
        self.findings = findings
        super().__init__("; ".join(f"{f['location']}: {f['message']}" for f in findings[:5]))


def problem(location, message):
    return {
        "rule": "SCHEMA",
        "severity": "error",
        "location": location,
        "message": message,
        "line": None,
        "donor": None,
    }


def place(sheet, row=None, column=None):
    text = f"sheet {sheet}"
    if row is not None:
        text += f", row {row}"
    if column:
        text += f", column {column}"
    return text


README = """PRISM line submission template, protocol prism-line-submission/1

Fill one row per donor (donors), per variant (variants), per line (lines) and per QC
record (qc). Rows are tied together by local_id: a line names its donor's local_id, a
QC row names its line's local_id, a variant row names a donor (germline) or a line
(gene edit). Protocol 2: the lots sheet (lots.csv) declares each line's banked lots,
one row per lot naming its line's local_id; a QC row may name the lot it was made on
(column lot). A file with lot rows follows protocol 2 (/protocol/2/). Protocol 3: the
vials sheet (vials.csv) lists the vials of a lot the depositor sends, one row per vial
(line local_id, lot code, id, name); a file with vial rows follows protocol 3 (/protocol/3/). Lists in one cell are separated by ';'. Markers: OCT4=96; TRA-1-60=91.5.
CNVs: 20:gain:7.5 (chromosome:type:size in Mb, add :inherited when the donor carries it).
STR: one column per marker, str_profile.<marker>, alleles like 11,12.
Dates: YYYY-MM-DD. Leave a line's name empty to have an hPSCreg name assigned.
The rules every submission is checked against: /protocol/1/
"""
