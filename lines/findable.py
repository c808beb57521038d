"""Findable lines: the records search engines and FAIR harvesters read.

- `json_ld`: a schema.org / Bioschemas record (a BioChemEntity with Product-style
  identifiers) for the line page, with the RRID, disease and the bank as provider;
- `cellosaurus_text`: the line as a Cellosaurus-style flat-file entry;
- `hpscreg_fields`: the hPSCreg registration fields the catalog holds.

Each is built from the line summary (lines.holdings.representation), so it says
no more than the line page does to the same viewer."""

from typing import Any

from django.conf import settings

from lines.models import CellLine

SEX_WORDS = {"female": "Female", "male": "Male"}


def json_ld(line: CellLine, summary: dict, page_url: str) -> dict:
    donor = summary.get("donor") or {}
    disease = donor.get("disease") or None
    record: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": ["BioChemEntity", "Product"],
        "http://purl.org/dc/terms/conformsTo": {
            "@id": "https://bioschemas.org/profiles/BioChemEntity/0.7-RELEASE",
            "@type": "CreativeWork",
        },
        "@id": page_url,
        "identifier": line.name,
        "name": line.name,
        "url": page_url,
        "description": f"Human induced pluripotent stem cell line {line.name}"
        + (f" from a donor with {disease['label']}" if disease and disease.get("label") else ""),
        "provider": {"@type": "Organization", "name": settings.PRISM_BANK_NAME},
        "alternateName": list(line.alternative_names or []),
    }
    if line.cellosaurus_accession:
        record["sameAs"] = [f"https://www.cellosaurus.org/{line.cellosaurus_accession}"]
        record["additionalProperty"] = [
            {"@type": "PropertyValue", "propertyID": "RRID", "value": f"RRID:{line.cellosaurus_accession}"}
        ]
    if disease and disease.get("id"):
        curie = disease["id"]
        record["associatedDisease"] = {
            "@type": "MedicalCondition",
            "name": disease.get("label") or curie,
            "code": {"@type": "MedicalCode", "codeValue": curie, "codingSystem": "MONDO"},
        }
    if line.institution_id:
        record["producer"] = {"@type": "Organization", "name": line.institution.name}
    return record


def _line(code: str, value: str) -> str:
    return f"{code}   {value}"


def cellosaurus_text(line: CellLine, summary: dict) -> str:
    """The Cellosaurus flat-file lines the catalog can fill (ID, AC, SY, DI, OX, SX,
    AG, CA, DT-less), ending with //."""
    donor = summary.get("donor") or {}
    out = [_line("ID", line.name)]
    if line.cellosaurus_accession:
        out.append(_line("AC", line.cellosaurus_accession))
    if line.alternative_names:
        out.append(_line("SY", "; ".join(line.alternative_names)))
    if line.hpscreg_name:
        out.append(_line("DR", f"hPSCreg; {line.hpscreg_name}"))
    disease = donor.get("disease")
    if disease and disease.get("id"):
        out.append(_line("DI", f"MONDO; {disease['id']}; {disease.get('label') or ''}".rstrip()))
    out.append(_line("OX", "NCBI_TaxID=9606; ! Homo sapiens (Human)"))
    if summary.get("parental_line"):
        out.append(_line("HI", summary["parental_line"]))
    out.append(_line("SX", SEX_WORDS.get(donor.get("sex") or "", "Sex unspecified")))
    if donor.get("age_at_sampling") is not None:
        out.append(_line("AG", f"{donor['age_at_sampling']}Y"))
    out.append(_line("CA", "Induced pluripotent stem cell"))
    out.append(_line("CC", f"Part of: {settings.PRISM_BANK_NAME}."))
    for gene in summary.get("genes") or []:
        out.append(_line("CC", f"Sequence variation: {gene} (see the bank's line page)."))
    out.append("//")
    return "\n".join(out) + "\n"


def hpscreg_fields(line: CellLine, summary: dict) -> dict:
    """hPSCreg registration fields (names as in hPSCreg's line export), RRID where known."""
    donor = summary.get("donor") or {}
    disease = donor.get("disease") or {}
    return {
        "name": line.hpscreg_name or line.name,
        "alternate_names": list(line.alternative_names or []),
        "type": "hiPSC",
        "rrid": f"RRID:{line.cellosaurus_accession}" if line.cellosaurus_accession else None,
        "provider_generator": line.institution.code if line.institution_id else None,
        "donor_sex": donor.get("sex"),
        "donor_age": donor.get("age_at_sampling"),
        "disease_flag": bool(disease.get("id") or disease.get("label")),
        "disease": disease.get("id"),
        "disease_name": disease.get("label"),
        "source_cell_type": (summary.get("source_cell_type") or {}).get("id"),
        "reprogramming_method": line.reprogramming_method or None,
        "derivation_date": line.derived_on.isoformat() if line.derived_on else None,
        "genetic_modification": line.modification_type != "none",
        "parental_line": summary.get("parental_line"),
        "status": line.status,
    }
