"""Real records as submissions: the Allen Cell Collection (a parental line, WTC =
UCSFi001-A, and its gene-edited clones) and the iNDI KOLF2.1J isogenic lines.
Clean records pass; each kind of real dirt gets the right rule id, never a crash.

The conversions below are what a careful importer would do, written out so the
dirt that survives them is the source's own."""

import copy
import csv
import gzip
import io
import json
import re

import pytest

from core.models import Gene
from lines.models import ProtocolVersion
from lines.submissions.formats import document_to_csv_zip, parse_upload
from lines.submissions.validation import validate_document
from tests.documents import donor as example_donor
from tests.documents import line as example_line
from tests.documents import rules_of

pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------


def load_hgnc_genes(reference_data, symbols):
    """The HGNC rows (official complete set) for `symbols`, matched as approved, previous
    or alias symbols, so VAR-1 sees real HGNC data without loading 49,000 genes."""
    wanted = {s.upper() for s in symbols}
    [path] = sorted((reference_data / "genes_diseases").glob("hgnc_entries_*.tsv.gz"))
    genes = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            previous = [s.strip() for s in (row["Previous symbols"] or "").split(",") if s.strip()]
            aliases = [s.strip() for s in (row["Alias symbols"] or "").split(",") if s.strip()]
            names = {row["Approved symbol"].upper(), *(s.upper() for s in previous + aliases)}
            if row["Status"] == "Approved" and names & wanted:
                genes.append(
                    Gene(
                        hgnc_id=row["HGNC ID"],
                        symbol=row["Approved symbol"],
                        name=row["Approved name"],
                        previous_symbols=previous,
                        alias_symbols=aliases,
                    )
                )
    Gene.objects.exclude(hgnc_id__in=[g.hgnc_id for g in genes]).filter(symbol__in=[g.symbol for g in genes]).delete()
    Gene.objects.bulk_create(
        genes,
        update_conflicts=True,
        unique_fields=["hgnc_id"],
        update_fields=["symbol", "name", "previous_symbols", "alias_symbols"],
    )


def check(document, institution):
    return validate_document(document, protocol=ProtocolVersion.objects.get(number=1), institution=institution)


def by_line(findings):
    grouped = {}
    for f in findings:
        grouped.setdefault(f["line"], []).append(f)
    return grouped


# --- Allen Cell Collection ----------------------------------------------------------


def allen_records(reference_data):
    with open(
        reference_data / "allen_cell_catalog" / "allen_cell_catalog_frontmatter.json",
        encoding="utf-8",
    ) as f:
        data = json.load(f)
    return data["cell-line"], data["disease-cell-line"]


def _hpscreg_name(record):
    link = record.get("eu_hpsc_reg") or ""
    return link.rstrip("/").rsplit("/", 1)[-1] or None


def _clinvar_variant(snp):
    """'NM_000257.4(MYH7):c.752C>A(p.His251Asn)' → gene, hgvs, protein, as written:
    the gene in brackets comes out of the accession, nothing else is tidied."""
    gene = re.search(r"\(([A-Za-z0-9-]+)\)", snp).group(1)
    nucleotide, _, protein = snp.partition("(p.")
    return {
        "gene": gene,
        "hgvs": nucleotide.replace(f"({gene})", ""),
        "protein": "p." + protein.rstrip(")"),
        "zygosity": "heterozygous",
    }


def allen_document(reference_data):
    """The WTC donor, WTC itself (UCSFi001-A) and every edited clone, with the names
    hPSCreg gave them; disease lines hang off the clone they were made in."""
    lines, disease_lines = allen_records(reference_data)
    donor = example_donor("WTC-donor", seed="WTC", sex="male")
    donor.update(disease=None, als=None, variants=[], ancestry="East Asian", age_at_sampling=30)
    profile = donor["str_profile"]
    document = {"protocol": "prism-line-submission/1", "donors": [donor], "lines": []}
    local_of = {}
    for record in lines:
        local_id = f"AICS-{record['cell_line_id']}" + (
            f"-cl{record['clone_number']}" if record.get("clone_number") else ""
        )
        local_of.setdefault(record["cell_line_id"], local_id)
        if record["cell_line_id"] == 0:
            entry = example_line(local_id, "WTC-donor", profile, name="UCSFi001-A")
            entry["qc"][1]["karyotype"] = "46,XY"
        else:
            edits = record.get("genetic_modifications") or []
            entry = example_line(
                local_id,
                "WTC-donor",
                profile,
                name=_hpscreg_name(record),
                parental_line="AICS-0",
                modification={
                    "type": "reporter",
                    "gene": edits[0]["gene"] if edits else None,
                    "description": ", ".join(
                        f"{e.get('gene')} {e.get('fluorescent_tag') or ''} {e.get('tag_location') or ''}".strip()
                        for e in edits
                    ),
                },
            )
            entry["qc"][1]["karyotype"] = "46,XY"
        document["lines"].append(entry)
    for record in disease_lines:
        local_id = f"AICS-{record['cell_line_id']}"
        entry = example_line(
            local_id,
            "WTC-donor",
            profile,
            parental_line=local_of.get(record["parental_line"]),
            modification={"type": "knock_in", "variants": [_clinvar_variant(record["snp"])]},
        )
        entry["qc"][1]["karyotype"] = "46,XY"
        document["lines"].append(entry)
    return document


@pytest.fixture
def allen(reference_data, other_institution):
    document = allen_document(reference_data)
    symbols = {ln["modification"].get("gene") for ln in document["lines"]} | {
        v["gene"] for ln in document["lines"] for v in ln["modification"].get("variants", [])
    }
    load_hgnc_genes(reference_data, {s for s in symbols if s})
    return document, other_institution  # UCSF deposits: WTC is UCSFi001-A


def test_allen_clean_records_pass(allen):
    document, ucsf = allen
    findings = by_line(check(document, ucsf))
    assert "AICS-0" not in findings  # the parental line, UCSFi001-A
    clean = [ln["local_id"] for ln in document["lines"] if ln["local_id"] not in findings]
    # Most of the 63 edited clones carry an approved gene and a unique hPSCreg name.
    assert len(clean) >= 45
    assert "AICS-10-cl55" in clean  # SEC61B-mEGFP, UCSFi001-A-8


def test_allen_hpscreg_name_given_to_three_clones_is_name_3(allen):
    document, ucsf = allen
    findings = check(document, ucsf)
    duplicated = [f for f in findings if f["rule"] == "NAME-3"]
    # UCSFi001-A-66 is linked from AICS-114 clone 32 first, then from AICS-126 clones 41 and 68.
    assert {f["line"] for f in duplicated} == {"AICS-126-cl41", "AICS-126-cl68"}
    assert all("UCSFi001-A-66" in f["message"] for f in duplicated)


def test_allen_safe_harbour_locus_is_not_a_gene_and_an_old_symbol_is_a_warning(allen):
    document, ucsf = allen
    grouped = by_line(check(document, ucsf))
    # AAVS1 is an approved HGNC symbol (HGNC:22); "CLYBL safe harbor" is not a symbol at all.
    assert not [f for f in grouped.get("AICS-36-cl28", []) if f["rule"] == "VAR-1"]
    clybl = [f for f in grouped["AICS-90-cl391"] if f["rule"] == "VAR-1"]
    assert clybl and clybl[0]["severity"] == "error" and "CLYBL safe harbor" in clybl[0]["message"]
    histone = [f for f in grouped["AICS-61-cl36"] if f["rule"] == "VAR-1"]
    assert histone and histone[0]["severity"] == "warning" and "H2BC11" in histone[0]["message"]


def test_allen_disease_lines_clinvar_strings(allen):
    document, ucsf = allen
    grouped = by_line(check(document, ucsf))
    # Clean ClinVar names (MYH7 c.752C>A, LMNA c.1824C>T p.Gly608=) are well-formed HGVS once split.
    assert not [f for f in grouped.get("AICS-104", []) if f["rule"] == "VAR-2"]
    assert not [f for f in grouped.get("AICS-119", []) if f["rule"] == "VAR-2"]
    # The malformed accession NM_0027470.4 (7 digits) is VAR-2.
    [myh3] = [f for f in grouped["AICS-113"] if f["rule"] == "VAR-2"]
    assert "NM_0027470.4" in myh3["message"] and myh3["location"].endswith("/hgvs")
    # The space before "(p.Glu525Lys)" is VAR-2.
    [spaced] = [f for f in grouped["AICS-109"] if f["rule"] == "VAR-2"]
    assert "spaces" in spaced["message"]
    # They were edited in a clone (AICS-75, the ACTN2 line): numbering is flat, so NAME-4.
    assert any(f["rule"] == "NAME-4" for f in grouped["AICS-104"])


def test_allen_records_as_a_csv_set_keep_their_findings(allen):

    document, ucsf = allen
    parsed, locate = parse_upload(io.BytesIO(document_to_csv_zip(document)), "csv")
    findings = check(parsed, ucsf)
    assert rules_of(findings) == rules_of(check(document, ucsf))
    [myh3] = [f for f in findings if f["rule"] == "VAR-2" and f["line"] == "AICS-113"]
    assert locate(myh3["location"]).startswith("sheet variants, row ")
    assert locate(myh3["location"]).endswith("column hgvs")


# --- iNDI KOLF2.1J --------------------------------------------------------------------

_TYPES = {
    "SNV": "knock_in",
    "KI": "knock_in",
    "DEL": "knock_out",
    "PTC": "knock_out",
    "HALO": "reporter",
    "REV": "gene_correction",
}
_ZYGOSITY = {"WT": "heterozygous", "Y": "hemizygous"}
_ONE_LETTER = re.compile(r"^[ACDEFGHIKLMNPQRSTVWY]\d+[ACDEFGHIKLMNPQRSTVWYX*]$")


def indi_rows(reference_data):
    with open(reference_data / "indi" / "indi_kolf2.1j_als_genes_subset.tsv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def indi_line(row, profile):
    """One iNDI row as an edited line of KOLF2.1J. 'R495X' becomes p.R495* (one-letter
    HGVS), a deletion or tag has no protein change; `0` for no condition means none."""
    first, _, second = row["Genotype"].partition("/")
    kind = _TYPES.get(first, "other")
    variants = []
    if kind == "knock_in" and _ONE_LETTER.match(row["Gene Variant"]):
        protein = "p." + row["Gene Variant"][:-1] + row["Gene Variant"][-1].replace("X", "*")
        variants.append(
            {
                "gene": row["Gene"],
                "protein": protein,
                "zygosity": _ZYGOSITY.get(second, "homozygous"),
                "legacy_name": row["Other Names"] or None,
            }
        )
    description = f"{row['Gene']} {row['Gene Variant']} {row['Genotype']}"
    if row["Condition"].strip() not in ("", "0"):
        description += f"; condition: {row['Condition']}"
    entry = example_line(
        row["Product Code"],
        "KOLF2",
        profile,
        parental_line="KOLF2.1J",
        modification={
            "type": kind,
            "gene": row["Gene"],
            "description": description,
            "variants": variants,
        },
    )
    entry["qc"][1]["karyotype"] = "46,XY"
    return entry


def indi_document(reference_data, rows=None):
    donor = example_donor("KOLF2", seed="KOLF2", sex="male")
    donor.update(disease=None, als=None, variants=[], age_at_sampling=55)
    profile = donor["str_profile"]
    parental = example_line("KOLF2.1J", "KOLF2", profile)
    parental["qc"][1]["karyotype"] = "46,XY"
    rows = indi_rows(reference_data) if rows is None else rows
    return {
        "protocol": "prism-line-submission/1",
        "donors": [donor],
        "lines": [parental, *(indi_line(row, profile) for row in rows)],
    }


@pytest.fixture
def indi(reference_data, owner_institution):
    load_hgnc_genes(reference_data, {row["Gene"] for row in indi_rows(reference_data)})
    return reference_data, owner_institution


def test_indi_clean_rows_pass(indi):
    reference_data, institution = indi
    document = indi_document(reference_data)
    assert len(document["lines"]) == 142
    assert check(document, institution) == []


def test_indi_zero_for_no_condition_copied_as_a_disease_is_donor_1(indi):
    reference_data, institution = indi
    document = indi_document(reference_data, rows=indi_rows(reference_data)[:3])
    assert indi_rows(reference_data)[0]["Condition"] == "0"
    document["donors"][0]["disease"] = indi_rows(reference_data)[0]["Condition"]
    found = [f for f in check(document, institution) if f["rule"] == "DONOR-1"]
    assert found and found[0]["severity"] == "error" and "MONDO" in found[0]["message"]
    # A condition written in words is DONOR-1 too: the protocol wants the MONDO id.
    document["donors"][0]["disease"] = "Amyotrophic lateral sclerosis type 19"
    assert [f["rule"] for f in check(document, institution) if f["rule"].startswith("DONOR")] == ["DONOR-1"]


def test_indi_raw_variant_strings_are_var_2_never_a_crash(indi):
    reference_data, institution = indi
    rows = indi_rows(reference_data)
    document = indi_document(reference_data, rows=rows)
    for entry, row in zip(document["lines"][1:], rows, strict=True):
        # What a naive importer does: the source's strings straight into the variant.
        entry["modification"]["variants"] = [
            {"gene": row["Gene"], "protein": row["Gene Variant"], "hgvs": row["Genomic Coordinate"]}
        ]
    findings = check(document, institution)
    grouped = by_line(findings)
    for row in rows:
        rules = rules_of(grouped.get(row["Product Code"], []))
        assert "VAR-2" in rules, row
        assert rules <= {"VAR-2"}, (row, rules)
    one_letter = next(f for f in findings if f["line"] == "JIPSC001002" and f["location"].endswith("/protein"))
    assert "p.Arg495" in one_letter["message"]  # a suggestion in HGVS form


def test_indi_other_names_as_protein_are_legacy_names(indi):
    reference_data, institution = indi
    rows = [r for r in indi_rows(reference_data) if r["Gene"] == "SOD1" and r["Gene Variant"] == "A5V"]
    document = indi_document(reference_data, rows=rows[:1])
    edited = copy.deepcopy(document)
    edited["lines"][1]["modification"]["variants"][0]["protein"] = "p.Ala4Val"  # the legacy A4V, HGVS-shaped
    [finding] = [f for f in check(edited, institution) if f["rule"] == "VAR-2"]
    assert "p.Ala5Val" in finding["message"]
    assert not [f for f in check(document, institution) if f["rule"] == "VAR-2"]
