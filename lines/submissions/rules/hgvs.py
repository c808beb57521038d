"""VAR-2's syntax: whether a c./g./n./m./r. or p. description is well-formed HGVS,
and why not, in words a depositor can act on."""

import re

# Versioned RefSeq/Ensembl/LRG accessions; RefSeq numbers have 6 or 9 digits.
_TRANSCRIPT = r"(?:N[MR]_\d{6}(?:\d{3})?\.\d+|X[MR]_\d{6}(?:\d{3})?\.\d+|ENST\d{11}\.\d+|LRG_\d+t\d+)"
_GENOMIC = r"(?:N[CGTW]_\d{6}(?:\d{3})?\.\d+|ENSG\d{11}\.\d+|LRG_\d+)"
_NT = "ACGTUN"
_CPOS = r"(?:[-*]?\d+(?:[+-]\d+)?|\?)"
_GPOS = r"(?:\d+|\?)"
_NUC_CHANGE = (
    rf"(?:[{_NT}]>[{_NT}]|=|del[{_NT}]*|dup[{_NT}]*|inv|ins(?:[{_NT}]+|\(\d+\))|delins[{_NT}]+|"
    rf"[{_NT}]+\[\(?\d+(?:_\d+)?\)?\](?:;\[\(?\d+(?:_\d+)?\)?\])?|\[\(?\d+(?:_\d+)?\)?\])"
)


def _coordinate_re(position):
    span = rf"(?:{position}|\({position}_{position}\))"
    return rf"{span}(?:_{span})?{_NUC_CHANGE}"


_HGVS_C = re.compile(
    rf"^(?P<acc>{_TRANSCRIPT}):(?P<type>[cnr])\.(?:{_coordinate_re(_CPOS)}|\({_coordinate_re(_CPOS)}\))$"
)
_HGVS_G = re.compile(rf"^(?P<acc>{_GENOMIC}):(?P<type>[gm])\.(?:{_coordinate_re(_GPOS)}|\({_coordinate_re(_GPOS)}\))$")
_ACCESSION_PART = re.compile(r"^(?P<acc>[^:]*):(?P<type>[a-z])\.")

_AA3 = "Ala|Arg|Asn|Asp|Cys|Gln|Glu|Gly|His|Ile|Leu|Lys|Met|Phe|Pro|Ser|Thr|Trp|Tyr|Val|Sec|Pyl|Ter|Xaa"
_AA1 = "ACDEFGHIKLMNPQRSTVWYUOX"
_AA = rf"(?:{_AA3}|[{_AA1}])"
_PPOS = rf"{_AA}\d+"
_PROTEIN_CHANGE = (
    rf"(?:{_PPOS}(?:_{_PPOS})?(?:{_AA}|\*|=|\?|del|dup|ins{_AA}+|delins{_AA}+|"
    rf"{_AA}?fs(?:Ter|\*)?\d*|{_AA}?ext(?:Ter|\*)?-?\d*|\*)|0|\?|=)"
)
_HGVS_P = re.compile(
    rf"^(?:(?:NP|XP)_\d{{6}}(?:\d{{3}})?\.\d+:|ENSP\d{{11}}\.\d+:)?p\.(?:{_PROTEIN_CHANGE}|\({_PROTEIN_CHANGE}\))$"
)
_LEGACY_PROTEIN = re.compile(rf"^(?:p\.)?\(?(?P<ref>[{_AA1}]|{_AA3})(?P<pos>\d+)(?P<alt>[{_AA1}*X]|{_AA3}|fs|del)\)?$")
_SIMPLE_SUBSTITUTION = re.compile(rf"p\.\(?(?P<ref>{_AA3}|[{_AA1}])(?P<pos>\d+)(?P<alt>{_AA3}|[{_AA1}*=])\)?$")

_THREE = {
    "A": "Ala",
    "R": "Arg",
    "N": "Asn",
    "D": "Asp",
    "C": "Cys",
    "Q": "Gln",
    "E": "Glu",
    "G": "Gly",
    "H": "His",
    "I": "Ile",
    "L": "Leu",
    "K": "Lys",
    "M": "Met",
    "F": "Phe",
    "P": "Pro",
    "S": "Ser",
    "T": "Thr",
    "W": "Trp",
    "Y": "Tyr",
    "V": "Val",
    "X": "Ter",
    "*": "Ter",
    "U": "Sec",
    "O": "Pyl",
}
_ONE = {three: one for one, three in _THREE.items() if one not in "X*"}
_ONE["Ter"] = "*"

# Reference protein sequences (UniProt canonical, Met1 = position 1) for genes whose
# literature uses a legacy numbering that skips Met1: SOD1 A4V is p.Ala5Val.
REFERENCE_PROTEINS = {
    "SOD1": (
        "MATKAVCVLKGDGPVQGIINFEQKESNGPVKVWGSIKGLTEGLHGFHVHEFGDNTAGCTSAGPHFNPLSRKHGGPKDEERHVGDLGN"
        "VTADKDGVADVSIEDSVISLSGDHCIIGRTLVVHEKADDLGKGGNEESTKTGNAGSRLACGVIGIAQ"
    ),
}


def _three_letter(code):
    return _THREE.get(code, code) if len(code) == 1 else code


def hgvs_problem(value):
    """Why a c./g./n./m./r. description is not well-formed HGVS, or None."""
    if re.search(r"\s", value):
        return "contains spaces; HGVS has none (e.g. NM_000454.5:c.14C>T)"
    if _HGVS_C.match(value) or _HGVS_G.match(value):
        return None
    head = _ACCESSION_PART.match(value)
    if not head:
        if re.match(r"^[cgnmr]\.", value):
            return "has no reference sequence; write the versioned accession first, e.g. NM_000454.5:c.14C>T"
        return "is not an HGVS description such as NM_000454.5:c.14C>T or NC_000021.9:g.31667281C>T"
    accession, kind = head.group("acc"), head.group("type")
    if "(" in accession:
        return (
            f"accession {accession!r} carries a gene in brackets (a ClinVar display name); "
            "write the accession alone, e.g. NM_000257.4:c.752C>A, and the gene in 'gene'"
        )
    if not re.match(rf"^(?:{_TRANSCRIPT}|{_GENOMIC})$", accession):
        if re.match(r"^[A-Z]{2}_\d+$", accession) or re.match(r"^ENS[TG]\d+$", accession):
            return f"accession {accession!r} has no version; add it, e.g. NM_000454.5"
        return (
            f"accession {accession!r} is not a RefSeq/Ensembl/LRG accession "
            "(RefSeq numbers have 6 or 9 digits and a version, e.g. NM_000454.5)"
        )
    if kind in "cnr" and not re.match(rf"^{_TRANSCRIPT}$", accession):
        return f"{kind}. coordinates need a transcript accession (NM_, NR_, ENST), not {accession}"
    if kind in "gm" and not re.match(rf"^{_GENOMIC}$", accession):
        return f"{kind}. coordinates need a genomic accession (NC_, NG_), not {accession}"
    if kind not in "cgnmr":
        return f"'{kind}.' is not an HGVS coordinate type (c., g., n., m., r.)"
    return "the change after the coordinate type is not HGVS syntax (e.g. c.14C>T, c.1A>G, c.92_94del, c.100dup)"


def protein_problem(value, gene):
    """Why a p. description is not well-formed HGVS (or uses legacy numbering), or None."""
    if re.search(r"\s", value):
        return "contains spaces; HGVS has none (e.g. p.Ala5Val)"
    if _HGVS_P.match(value):
        substitution = _SIMPLE_SUBSTITUTION.search(value)
        sequence = REFERENCE_PROTEINS.get(gene)
        if substitution and sequence:
            ref = substitution.group("ref")
            ref1 = ref if len(ref) == 1 else _ONE.get(ref)
            position = int(substitution.group("pos"))
            actual = sequence[position - 1] if 0 < position <= len(sequence) else None
            if actual and ref1 and actual != ref1:
                following = sequence[position] if position < len(sequence) else None
                if following == ref1:
                    return (
                        f"residue {position} of {gene} is {_THREE[actual]}, not {_three_letter(ref)}: this looks like "
                        f"the legacy numbering that skips Met1; HGVS counts Met1, so write "
                        f"p.{_three_letter(ref)}{position + 1}{_three_letter(substitution.group('alt'))} "
                        "and keep the legacy name in legacy_name"
                    )
                return f"residue {position} of {gene} is {_THREE[actual]}, not {_three_letter(ref)}"
        return None
    legacy = _LEGACY_PROTEIN.match(value)
    if legacy:
        ref, pos, alt = legacy.group("ref"), int(legacy.group("pos")), legacy.group("alt")
        hint = ""
        sequence = REFERENCE_PROTEINS.get(gene)
        ref1 = ref if len(ref) == 1 else _ONE.get(ref)
        if sequence and 0 < pos < len(sequence) and sequence[pos - 1] != ref1 and sequence[pos] == ref1:
            pos += 1
            hint = f" ({gene} legacy numbering skips Met1: HGVS counts Met1)"
        suggestion = f"p.{_three_letter(ref)}{pos}{_three_letter(alt) if alt not in ('fs', 'del') else alt}"
        return f"is a legacy protein name, not HGVS; write {suggestion}{hint} and keep {value!r} in legacy_name"
    return "is not HGVS p. syntax (e.g. p.Ala5Val, p.(Arg495Ter), p.Gly608=, p.Arg97GlyfsTer26)"
