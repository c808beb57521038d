"""Where a variant sits on the genome, from its HGVS description: only a genomic
description (`NC_000021.9:g.31667281C>T`) names a chromosome and a position; a
coding one (`NM_…:c.`) is relative to a transcript and gives none here.

Positions are kept as HGVS writes them: 1-based, inclusive. A RefSeq chromosome
accession's version tells the assembly (GRCh38 is one version above GRCh37 for
every human chromosome)."""

import re
from dataclasses import dataclass

# NC_0000NN.version → chromosome; GRCh38's version of each.
CHROMOSOMES = {f"NC_{n:06d}": str(n) for n in range(1, 23)} | {"NC_000023": "X", "NC_000024": "Y"}
GRCH38_VERSION = {
    "1": 11, "2": 12, "3": 12, "4": 12, "5": 10, "6": 12, "7": 14, "8": 11, "9": 12, "10": 11, "11": 10, "12": 12,
    "13": 11, "14": 9, "15": 10, "16": 10, "17": 11, "18": 10, "19": 10, "20": 11, "21": 9, "22": 11, "X": 11, "Y": 10,
}  # fmt: skip
GENOMIC = re.compile(
    r"^(?P<accession>NC_\d{6})\.(?P<version>\d+)(?:\([^)]*\))?:g\."
    r"(?P<start>\d+)(?:_(?P<end>\d+))?(?P<change>.*)$"
)
SUBSTITUTION = re.compile(r"^(?P<ref>[ACGT])>(?P<alt>[ACGT])$")
DELINS = re.compile(r"^del(?P<ref>[ACGT]*)ins(?P<alt>[ACGT]+)$")
DELETION = re.compile(r"^del(?P<ref>[ACGT]*)$")
DUPLICATION = re.compile(r"^dup(?P<ref>[ACGT]*)$")
INSERTION = re.compile(r"^ins(?P<alt>[ACGT]+)$")


@dataclass(frozen=True)
class GenomicLocation:
    chromosome: str  # "1"…"22", "X", "Y"
    assembly: str  # "GRCh38", "GRCh37" or "" (an accession version of neither)
    start: int  # 1-based, inclusive
    end: int  # 1-based, inclusive
    reference: str  # the reference bases where the description states them, else ""
    alternate: str  # the alternate bases where stated, else ""
    kind: str  # SNP, DEL, INS, DUP, INDEL or "" (another change)


def _change(change: str, start: int, end: int) -> tuple[str, str, str]:
    """(reference, alternate, kind) of the HGVS change after the position(s)."""
    if match := SUBSTITUTION.match(change):
        return match["ref"], match["alt"], "SNP"
    if match := DELINS.match(change):
        return match["ref"], match["alt"], "INDEL"
    if match := DELETION.match(change):
        return match["ref"], "", "DEL"
    if match := DUPLICATION.match(change):
        return match["ref"], "", "DUP"
    if match := INSERTION.match(change):
        return "", match["alt"], "INS"
    return "", "", ""


def genomic_location(hgvs: str) -> GenomicLocation | None:
    """The location a genomic HGVS description gives, or None (not `g.`, or not a
    human chromosome accession)."""
    match = GENOMIC.match((hgvs or "").strip())
    if not match or match["accession"] not in CHROMOSOMES:
        return None
    chromosome = CHROMOSOMES[match["accession"]]
    version = int(match["version"])
    grch38 = GRCH38_VERSION[chromosome]
    assembly = {grch38: "GRCh38", grch38 - 1: "GRCh37"}.get(version, "")
    start = int(match["start"])
    end = int(match["end"]) if match["end"] else start
    if end < start:
        return None
    reference, alternate, kind = _change(match["change"], start, end)
    return GenomicLocation(chromosome, assembly, start, end, reference, alternate, kind)


LOCATION_FIELDS = (
    "chromosome",
    "assembly",
    "position_start",
    "position_end",
    "reference_bases",
    "alternate_bases",
    "variant_type",
)


def location_fields(hgvs: str) -> dict:
    """The Variant columns the location fills (all blank where there is none)."""
    location = genomic_location(hgvs)
    if location is None:
        return {
            "chromosome": "",
            "assembly": "",
            "position_start": None,
            "position_end": None,
            "reference_bases": "",
            "alternate_bases": "",
            "variant_type": "",
        }
    return {
        "chromosome": location.chromosome,
        "assembly": location.assembly,
        "position_start": location.start,
        "position_end": location.end,
        "reference_bases": location.reference,
        "alternate_bases": location.alternate,
        "variant_type": location.kind,
    }
