"""g_variants: the variants of the lines the query matches, by gene, HGVS and
position. Engineered variants are public like their line; a donor's germline
variants count only where donors.disclosure opens the donor's genetic data to the
caller (the one rule, in its queryset form)."""

import re
from typing import Any

import numpy as np
from django.db.models import Q

from donors.disclosure import genetic_data_visible_q
from donors.models import Variant
from lines.holdings.filters import canonical_gene_symbols, variant_name_q
from network.beacon import positions
from network.beacon.entry_types import EntryType
from network.beacon.entry_types._lines import catalog_url, indexed_variant_holders, lines_matching
from network.beacon.filters import BeaconFilterError
from network.beacon.request import BeaconQuery

# Request parameters of Beacon's genomicVariations (requestParameters.json) this beacon answers.
KNOWN_PARAMETERS = {"geneId", "genomicAlleleShortForm", "aminoacidChange", *positions.POSITION_PARAMETERS}
HGVS_POSITION = re.compile(r"^(?P<accession>[A-Z]{2}_\d+(?:\.\d+)?)(?:\([^)]*\))?:(?P<kind>[cgn])\.(?P<start>\d+)")
SUBSTITUTION = re.compile(r"\d[ACGT]>(?P<alt>[ACGT]+)$")


def _parameter(params: dict, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value).strip() or None


def _variant_q(params: dict) -> Q:
    """What the request parameters ask of a variant itself (gene, HGVS, position)."""
    q = Q()
    gene = _parameter(params, "geneId")
    if gene:
        q &= Q(gene__in=canonical_gene_symbols([gene]))
    allele = _parameter(params, "genomicAlleleShortForm")
    if allele:
        q &= variant_name_q(allele)
    change = _parameter(params, "aminoacidChange")
    if change:
        q &= variant_name_q(change)
    position = positions.parse(params)
    if position is not None:
        q &= positions.position_q(position)
    return q


def _wanted(query: BeaconQuery) -> Q:
    params = query.request_parameters
    unknown = sorted(set(params) - KNOWN_PARAMETERS)
    if unknown:
        raise BeaconFilterError(f"requestParameters: {', '.join(unknown)} not supported by g_variants.")
    return _variant_q(params)


def matches(user: Any, query: BeaconQuery):
    wanted = _wanted(query)
    lines = lines_matching(user, query)
    # Two index scans joined by UNION ALL (a variant is on a line or on a donor, never
    # both) rather than one OR that the planner can only answer by a full scan.
    engineered = Variant.objects.filter(wanted, line__in=lines)
    germline = Variant.objects.filter(
        wanted, genetic_data_visible_q(user, "donor__"), donor__in=lines.values("donor_id")
    )
    return engineered.order_by().union(germline.order_by(), all=True).order_by("gene", "pk")


def count(user: Any, query: BeaconQuery) -> int:
    """How many variants `matches` gives. Where the facet index answers the line filters,
    the wanted variants (a gene, an HGVS, a position: few) are read with their line or
    donor and kept where that line matches, or that donor has a matching line and
    genetic data the caller may see (the index's disclosure flag, the same rule), instead
    of joining them to a subquery over every matching line; else `matches` in SQL."""
    wanted = _wanted(query)
    found = indexed_variant_holders(user, query)
    if found is None:
        return matches(user, query).count()
    lines, donors = found
    engineered = Variant.objects.filter(wanted, line__isnull=False).order_by().values_list("line_id", flat=True)
    germline = Variant.objects.filter(wanted, donor__isnull=False).order_by().values_list("donor_id", flat=True)
    return _held(lines, engineered) + _held(donors, germline)


def _held(holders: np.ndarray, ids) -> int:
    found = np.fromiter(ids.iterator(chunk_size=10_000), dtype=np.int64)
    found = found[found < len(holders)]
    return int(np.count_nonzero(holders[found]))


def _location(variant) -> dict:
    match = HGVS_POSITION.match(variant.hgvs or "")
    if match:
        start = int(match.group("start"))
        # A genomic description's span (donors.genomic); a coding one: its first position.
        end = variant.position_end or start
        return {
            "type": "SequenceLocation",
            "sequence_id": f"refseq:{match.group('accession')}",
            "interval": {
                "type": "SequenceInterval",
                "start": {"type": "Number", "value": start - 1},
                "end": {"type": "Number", "value": end},
            },
        }
    # No position recorded (a repeat expansion, a protein change only): somewhere in the gene.
    gene = variant.hgnc_id or f"HGNC.symbol:{variant.gene}"
    anywhere = {"type": "IndefiniteRange", "value": 0, "comparator": ">="}
    return {
        "type": "SequenceLocation",
        "sequence_id": gene,
        "interval": {"type": "SequenceInterval", "start": anywhere, "end": anywhere},
    }


def record(variant, user: Any) -> dict:
    substitution = SUBSTITUTION.search(variant.hgvs or "")
    kind = variant.variant_type or ("SNP" if substitution else ("DEL" if "del" in (variant.hgvs or "") else "SNP"))
    alternate = variant.alternate_bases or (substitution.group("alt") if substitution else "N")
    out: dict = {
        "variantInternalId": f"variant-{variant.pk}",
        "variation": {
            "variantType": kind,
            "alternateBases": alternate,
            "location": _location(variant),
        },
        "molecularAttributes": {"geneIds": [variant.gene]},
    }
    if variant.protein:
        out["molecularAttributes"]["aminoacidChanges"] = [variant.protein.removeprefix("p.")]
    if variant.hgvs:
        out["identifiers"] = {"genomicHGVSId": variant.hgvs}
    return out


ENTRY_TYPE = EntryType(
    id="genomicVariant",
    endpoint="g_variants",
    name="Genomic variant",
    ontology_term={"id": "ENSGLOSSARY:0000092", "label": "Variant"},
    schema_name="beacon-g_variant-v2.0.0",
    schema_path="genomicVariations/defaultSchema.json",
    description="Variants of the donors (where their consent opens them) and engineered variants of the lines.",
    matches=matches,
    count=count,
    record=record,
    catalog_url=catalog_url,
    filter_scopes=("genomicVariation",),
)
