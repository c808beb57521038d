"""Beacon position queries on g_variants (genomicVariations requestParameters):

- sequence query: `referenceName`, one `start`, optionally `referenceBases` /
  `alternateBases`: variants starting exactly there;
- range query: one `start` and one `end`: variants overlapping [start, end), partly
  or wholly (optionally limited by `variantType` or `alternateBases`);
- bracket query: two `start`s and two `end`s: variants starting within
  start[0]..start[1] and ending within end[0]..end[1] (both inclusive).

Beacon coordinates are 0-based (start inclusive, end exclusive); the variants keep
HGVS's 1-based inclusive positions (donors.genomic), so a variant at g.100 is
start 99, end 100. `assemblyId` (or a versioned RefSeq `referenceName`) limits the
answer to that assembly. Anything malformed raises BeaconFilterError naming the
parameter."""

import re
from dataclasses import dataclass

from django.db.models import Q

from donors.genomic import CHROMOSOMES, GRCH38_VERSION
from network.beacon.filters import BeaconFilterError

POSITION_PARAMETERS = {"referenceName", "start", "end", "referenceBases", "alternateBases", "assemblyId", "variantType"}
BASES = re.compile(r"^[ACGTN]+$")
REFERENCE_NAME = re.compile(
    r"^(?:refseq:)?(?P<accession>NC_\d{6})(?:\.(?P<version>\d+))?$|^(?:chr)?(?P<name>[0-9]{1,2}|X|Y)$", re.IGNORECASE
)
# Assembly names and RefSeq assembly accessions → the assembly; GCF_000001405.26 and
# later are GRCh38 patches, .25 and earlier GRCh37 ones (.13 onwards).
ASSEMBLY_NAME = re.compile(r"^(?:(?P<grc>GRCh3[78])(?:\.p\d+)?|(?P<ucsc>hg19|hg38)|GCF_000001405\.(?P<gcf>\d+))$", re.I)
VARIANT_TYPES = {"SNP": "SNP", "SNV": "SNP", "DEL": "DEL", "INS": "INS", "DUP": "DUP", "INDEL": "INDEL"}


@dataclass(frozen=True)
class PositionQuery:
    chromosome: str | None
    assembly: str | None
    start: tuple[int, ...]
    end: tuple[int, ...]
    reference: str | None
    alternate: str | None
    variant_type: str | None


def _error(name: str, message: str) -> BeaconFilterError:
    return BeaconFilterError(f"requestParameters.{name}: {message}")


def _text(params: dict, name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, list):
        if len(value) != 1:
            raise _error(name, "must be one value.")
        value = value[0]
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise _error(name, f"'{value}' is not a string.")
    return str(value).strip() or None


def _coordinates(params: dict, name: str, minimum: int) -> tuple[int, ...]:
    """One or two whole numbers: a list, a number, or text "12" / "12,34" (GET)."""
    value = params.get(name)
    if value is None or value == "" or value == []:
        return ()
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    elif not isinstance(value, list):
        value = [value]
    if not 1 <= len(value) <= 2:
        raise _error(name, "must be one or two positions.")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | str) or not str(item).isdigit():
            raise _error(name, f"'{item}' is not a position (a whole number).")
        number = int(item)
        if number < minimum:
            raise _error(name, f"{number} is below {minimum}.")
        out.append(number)
    if len(out) == 2 and out[0] > out[1]:
        raise _error(name, f"{out[0]} is after {out[1]} (a bracket goes from the lower to the higher).")
    return tuple(out)


def _assembly(text: str | None) -> str | None:
    if text is None:
        return None
    match = ASSEMBLY_NAME.match(text)
    if not match:
        raise _error("assemblyId", f"'{text}' is not a human assembly this beacon knows (GRCh38, GRCh37, hg38, hg19).")
    if match["grc"]:
        return "GRCh38" if match["grc"].endswith("8") else "GRCh37"
    if match["ucsc"]:
        return "GRCh38" if match["ucsc"].lower() == "hg38" else "GRCh37"
    patch = int(match["gcf"])
    if patch < 13:
        raise _error("assemblyId", f"'{text}' is not a GRCh37 or GRCh38 accession.")
    return "GRCh38" if patch >= 26 else "GRCh37"


def _reference_name(text: str | None) -> tuple[str | None, str | None]:
    """(chromosome, assembly the accession's version implies, or None)."""
    if text is None:
        return None, None
    match = REFERENCE_NAME.match(text)
    if not match:
        raise _error("referenceName", f"'{text}' is not a chromosome (refseq:NC_000021.9, chr21, 21, X).")
    if match["name"]:
        name = match["name"].upper()
        if name not in GRCH38_VERSION:
            raise _error("referenceName", f"'{text}' is not a human chromosome.")
        return name, None
    chromosome = CHROMOSOMES.get(match["accession"].upper())
    if chromosome is None:
        raise _error("referenceName", f"'{text}' is not a human chromosome accession.")
    if match["version"] is None:
        return chromosome, None
    version, grch38 = int(match["version"]), GRCH38_VERSION[chromosome]
    assembly = {grch38: "GRCh38", grch38 - 1: "GRCh37"}.get(version)
    if assembly is None:
        raise _error("referenceName", f"'{text}': version {version} is neither GRCh38's nor GRCh37's.")
    return chromosome, assembly


def _bases(params: dict, name: str) -> str | None:
    text = _text(params, name)
    if text is None:
        return None
    text = text.upper()
    if not BASES.match(text):
        raise _error(name, f"'{text}' is not a sequence of A, C, G, T or N.")
    return text


def parse(params: dict) -> PositionQuery | None:
    """The position query of `params`, or None where it asks for no position."""
    if not any(params.get(name) not in (None, "", []) for name in POSITION_PARAMETERS):
        return None
    chromosome, implied = _reference_name(_text(params, "referenceName"))
    assembly = _assembly(_text(params, "assemblyId"))
    if implied and assembly and implied != assembly:
        raise _error("assemblyId", f"{assembly} is not the assembly of referenceName ({implied}).")
    start = _coordinates(params, "start", 0)
    end = _coordinates(params, "end", 1)
    if end and not start:
        raise _error("start", "is required with end.")
    if start and chromosome is None:
        raise _error("referenceName", "is required with start (the chromosome the positions are on).")
    if len(start) == 2 and len(end) != 2:
        raise _error("end", "a bracket query (two starts) needs two ends.")
    if len(end) == 2 and len(start) != 2:
        raise _error("start", "a bracket query (two ends) needs two starts.")
    if len(start) == 1 and len(end) == 1 and end[0] <= start[0]:
        raise _error("end", f"{end[0]} is not after start {start[0]}.")
    variant_type = _text(params, "variantType")
    if variant_type is not None:
        if variant_type.upper() not in VARIANT_TYPES:
            raise _error("variantType", f"'{variant_type}' is not one of {', '.join(sorted(VARIANT_TYPES))}.")
        variant_type = VARIANT_TYPES[variant_type.upper()]
    return PositionQuery(
        chromosome=chromosome,
        assembly=implied or assembly,
        start=start,
        end=end,
        reference=_bases(params, "referenceBases"),
        alternate=_bases(params, "alternateBases"),
        variant_type=variant_type,
    )


def _bases_q(field: str, bases: str) -> Q:
    if "N" not in bases:
        return Q(**{field: bases})
    return Q(**{f"{field}__regex": "^" + bases.replace("N", "[ACGT]") + "$"})


def position_q(query: PositionQuery) -> Q:
    """The variants (donors.Variant columns) the position query matches."""
    q = Q()
    if query.chromosome is not None:
        q &= Q(chromosome=query.chromosome)
    if query.assembly is not None:
        q &= Q(assembly=query.assembly)
    # 0-based Beacon start s is the 1-based position s + 1; an exclusive end e is the
    # 1-based inclusive end e.
    if len(query.start) == 1 and not query.end:
        q &= Q(position_start=query.start[0] + 1)
    elif len(query.start) == 1:
        q &= Q(position_start__lte=query.end[0], position_end__gt=query.start[0])
    elif len(query.start) == 2:
        q &= Q(position_start__gte=query.start[0] + 1, position_start__lte=query.start[1] + 1)
        q &= Q(position_end__gte=query.end[0], position_end__lte=query.end[1])
    if query.reference is not None:
        q &= _bases_q("reference_bases", query.reference)
    if query.alternate is not None:
        q &= _bases_q("alternate_bases", query.alternate)
    if query.variant_type is not None:
        q &= Q(variant_type=query.variant_type)
    if not query.start and query.chromosome is None:
        # Bases or a type alone: among the variants with a known position.
        q &= Q(position_start__isnull=False)
    return q
