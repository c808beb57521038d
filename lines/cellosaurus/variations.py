"""Cellosaurus sequence variations (the VA lines): a gene, a change in HGVS or in
words, zygosity, and whether it was engineered; and what modification an
engineered variation makes to a line. No database access."""

import re
from dataclasses import dataclass


@dataclass
class SequenceVariation:
    gene: str
    hgnc_id: str = ""
    hgvs: str = ""
    protein: str = ""
    legacy_name: str = ""
    zygosity: str = ""  # a donors.models.Zygosity value, or "" when the source does not say
    kind: str = "mutation"
    engineered: bool = False
    text: str = ""


# --- sequence variations -------------------------------------------------------------

_ZYGOSITY = {
    "heterozygous": "heterozygous",
    "homozygous": "homozygous",
    "hemizygous": "hemizygous",
    "compound heterozygous": "compound_heterozygous",
}
_ZYGOSITY_PREFIX_RE = re.compile(r"^(Heterozygous|Homozygous|Hemizygous) for (.+)$", re.IGNORECASE)
_TRAILING_PAREN_RE = re.compile(r"\s*\(([^()]*)\)$")
# A notation in parentheses after the main one: c.256G>A, -124C>T, 1781A>G, IVS3-1G>C.
_NOTATION_RE = re.compile(r"^(?:[cgnmrp]\.|[-*]?\d|IVS)")
_CHANGE_RE = re.compile(r"^([cgnmrp]\.\S+)(?:\s+\(([^()]+)\))?$")
_GENE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
_ENGINEERED_RE = re.compile(
    r"engineer|knock[- ]?in|knock[- ]?out|CRISPR|TALEN|gene[- ]correct|genome[- ]edit",
    re.IGNORECASE,
)
_STRUCTURED_KINDS = {
    "Mutation": "mutation",
    "Gene deletion": "gene deletion",
    "Gene amplification": "gene amplification",
    "Repeat expansion": "repeat expansion",
}


def parse_sequence_variation(text):
    """The variations in one "Sequence variation:" comment, or None when it names no gene
    and change that the catalog can keep (fusions, "Has no TP53 mutation" …)."""
    text = text.strip()
    first = text.split(";", 1)[0].strip()
    if first in _STRUCTURED_KINDS or first == "Gene fusion":
        return _parse_structured(text)
    return _parse_free_text(text)


def _parse_structured(text):
    """Newer releases: 'Mutation; HGNC; 11179; SOD1; Simple; p.Gly86Ser (c.256G>A);
    ZygosityUnknown.' or '…; Zygosity=Heterozygous; Note=… (PubMed=…).'"""
    body = text.rstrip(".")
    body, _references = _strip_references(body)
    tokens = [t.strip() for t in body.split("; ")]
    kind = _STRUCTURED_KINDS.get(tokens[0])
    if kind is None or len(tokens) < 4:
        return None  # a fusion names two genes and no change of either
    database, identifier, gene = tokens[1], tokens[2], tokens[3]
    hgnc_id = (identifier if identifier.startswith("HGNC:") else f"HGNC:{identifier}") if database == "HGNC" else ""
    variation = SequenceVariation(gene=gene, hgnc_id=hgnc_id, kind=kind, text=text)
    rest = tokens[4:]
    if kind == "mutation":
        if len(rest) < 2:
            return None
        mutation_type, description, rest = rest[0], rest[1], rest[2:]
        if mutation_type == "None_reported":
            return []
        if mutation_type.endswith(("_edited", "_corrected")):
            variation.engineered = True
        if not _apply_change(variation, description):
            variation.legacy_name = description[:60]
    for token in rest:
        key, _, value = token.partition("=")
        if key == "Zygosity":
            variation.zygosity = _ZYGOSITY.get(value.strip().lower(), "")
    if _ENGINEERED_RE.search(text):
        variation.engineered = True
    return [variation]


def _parse_free_text(text):
    """Release 29: '[Heterozygous for ]SOD1 p.Gly86Ser (c.256G>A)[ and p.… (c.…)][; note] (refs).'"""
    body = text.rstrip(".").strip()
    body, _references = _strip_references(body)
    body = body.split("; ", 1)[0].strip()
    zygosity = ""
    if match := _ZYGOSITY_PREFIX_RE.match(body):
        zygosity = _ZYGOSITY[match.group(1).lower()]
        body = match.group(2).strip()
    gene, _, changes = body.partition(" ")
    if not _GENE_RE.match(gene) or gene in ("Has", "No") or not changes:
        return None
    engineered = bool(_ENGINEERED_RE.search(text))
    if changes in ("deletion", "amplification"):
        return [
            SequenceVariation(
                gene=gene,
                zygosity=zygosity,
                kind=f"gene {changes}",
                legacy_name=f"{gene} {changes}",
                engineered=engineered,
                text=text,
            )
        ]
    variations = []
    for item in re.split(r",\s+|\s+and\s+", changes):
        variation = SequenceVariation(gene=gene, zygosity=zygosity, engineered=engineered, text=text)
        if not _apply_change(variation, item.strip()):
            return None
        variations.append(variation)
    return variations


def _strip_references(body):
    """Split off a final '(PubMed=…; ATCC)' or '(from parent cell line)', but not a
    final notation such as '(c.256G>A)'."""
    match = _TRAILING_PAREN_RE.search(body)
    if match and not _NOTATION_RE.match(match.group(1).strip()):
        return body[: match.start()].strip(), match.group(1)
    return body, ""


def _apply_change(variation, item):
    """Fill protein/HGVS/legacy name from 'p.Gly86Ser (c.256G>A)', 'c.390-1G>C (IVS3-1G>C)'
    or 'p.Arg594Gln (1781A>G)'. False when the item is not a change."""
    match = _CHANGE_RE.match(item)
    if not match:
        return False
    main, other = match.group(1), (match.group(2) or "").strip()
    if main.startswith("p."):
        variation.protein = main
        if other.startswith(("c.", "g.", "n.", "m.", "r.")):
            variation.hgvs = other
        elif other:
            variation.legacy_name = other[:60]
    else:
        variation.hgvs = main
        if other.startswith("p."):
            variation.protein = other
        elif other:
            variation.legacy_name = other[:60]
    return True


# --- genetic modification ------------------------------------------------------------


def modification_of(entry, engineered_variations):
    """(modification type, description) of a line from its comments and engineered
    variations; ("none", "") when nothing says the line was modified."""
    notes = entry.comments_on("Genome modification") + entry.comments_on("Knockout cell")
    notes += [v.text for v in engineered_variations if v.text not in notes]
    if not notes:
        return "none", ""
    joined = " ".join(notes)
    lowered = joined.lower()
    if "correct" in lowered:
        kind = "gene_correction"
    elif re.search(r"knock[- ]?out|\bko\b", lowered) or entry.comments_on("Knockout cell"):
        kind = "knock_out"
    elif re.search(r"knock[- ]?in|_edited|engineer", lowered):
        kind = "knock_in"
    elif "reporter" in lowered or "transgene" in lowered:
        kind = "reporter"
    else:
        kind = "other"
    return kind, joined
