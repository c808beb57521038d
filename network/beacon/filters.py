"""Beacon filters → the catalog's own line filters (lines.holdings.filters).

A Beacon filter is an ontology CURIE (MONDO, HGNC, NCIT/PATO for sex, HANCESTRO,
CL, DUO, a few HP terms) or an alphanumeric filter ({"id": "age", "operator": ">=",
"value": "50"}). Each one becomes query parameters of CellLineFilter, so a Beacon
query and the /lines/ page answer the same question with the same rules (MONDO
descendant expansion, disclosure of variants, DUO matching, visibility): the
catalog link a federated answer gives is those very parameters.

`BeaconFilterError` names the filter that cannot be understood.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.models import Gene
from donors.models import Ancestry, FamilyHistory, OnsetSite, Sex

MONDO = re.compile(r"MONDO:\d{7}")
CL = re.compile(r"CL:\d{7}")
DUO = re.compile(r"DUO:\d{7}")
HGNC = re.compile(r"HGNC:\d+")
ISO_YEARS = re.compile(r"P(\d{1,3})Y")

SEX_TERMS = {
    "NCIT:C16576": Sex.FEMALE,
    "NCIT:C20197": Sex.MALE,
    "NCIT:C17998": Sex.UNKNOWN,
    "PATO:0000383": Sex.FEMALE,
    "PATO:0000384": Sex.MALE,
}
SEX_LABELS = {"NCIT:C16576": "female", "NCIT:C20197": "male", "NCIT:C17998": "unknown"}
# The catalog's ancestry groups as HANCESTRO terms (Admixed American: "Hispanic or
# Latin American", the closest HANCESTRO group).
ANCESTRY_TERMS = {
    "HANCESTRO:0010": Ancestry.AFRICAN,
    "HANCESTRO:0014": Ancestry.ADMIXED_AMERICAN,
    "HANCESTRO:0009": Ancestry.EAST_ASIAN,
    "HANCESTRO:0005": Ancestry.EUROPEAN,
    "HANCESTRO:0015": Ancestry.MIDDLE_EASTERN,
    "HANCESTRO:0006": Ancestry.SOUTH_ASIAN,
    "HANCESTRO:0017": Ancestry.OCEANIAN,
}
# HP phenotypes the catalog records as the site of onset.
ONSET_TERMS = {"HP:0002483": OnsetSite.BULBAR}

# Alphanumeric filters: id → (catalog parameter, allowed values or None for free text).
ALPHANUMERIC_EQUALS = {
    "sex": ("sex", set(Sex.values)),
    "ancestry": ("ancestry", set(Ancestry.values)),
    "onsetSite": ("onset_site", set(OnsetSite.values)),
    "familyHistory": ("family_history", set(FamilyHistory.values)),
    "commercialUse": ("commercial_use", {"true", "false"}),
    "inStock": ("in_stock", {"true", "false"}),
    "geneId": ("gene", None),
    "variant": ("variant", None),
    "institution": ("institution", None),
}
AGE_IDS = {"age", "ageAtSampling"}
AGE_OPERATORS = {">=", ">", "<=", "<", "="}


class BeaconFilterError(ValueError):
    """A filter this beacon does not understand; the message names it."""


@dataclass
class Translation:
    """Catalog parameters (name → values) of a list of Beacon filters."""

    params: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, value: str) -> None:
        values = self.params.setdefault(name, [])
        if value not in values:
            values.append(value)

    def set_bound(self, name: str, value: int, *, keep: Callable[[int, int], int]) -> None:
        current = self.params.get(name)
        self.params[name] = [str(keep(int(current[0]), value) if current else value)]


def _age_years(value: object, where: str) -> int:
    text = str(value).strip()
    match = ISO_YEARS.fullmatch(text)
    if match:
        return int(match.group(1))
    if text.isdigit():
        return int(text)
    raise BeaconFilterError(f"{where}: the age '{text}' is not a number of years (50) or an ISO 8601 duration (P50Y).")


def _alphanumeric(item: dict, where: str, out: Translation) -> None:
    ident = item["id"]
    operator = str(item.get("operator", "="))
    value = item.get("value")
    if value is None:
        raise BeaconFilterError(f"{where}: the alphanumeric filter '{ident}' needs a value.")
    if ident in AGE_IDS:
        if operator not in AGE_OPERATORS:
            raise BeaconFilterError(
                f"{where}: the operator '{operator}' is not one of {', '.join(sorted(AGE_OPERATORS))}."
            )
        years = _age_years(value, where)
        if operator in (">=", ">", "="):
            out.set_bound("age_min", years + (1 if operator == ">" else 0), keep=max)
        if operator in ("<=", "<", "="):
            out.set_bound("age_max", years - (1 if operator == "<" else 0), keep=min)
        return
    if ident not in ALPHANUMERIC_EQUALS:
        raise BeaconFilterError(f"{where}: '{ident}' is not a filter this beacon knows (see filtering_terms).")
    if operator != "=":
        raise BeaconFilterError(f"{where}: the filter '{ident}' takes the operator '=' only.")
    name, allowed = ALPHANUMERIC_EQUALS[ident]
    text = str(value).strip()
    if name in {"commercial_use", "in_stock"}:
        text = text.lower()
    if allowed is not None and text not in allowed:
        raise BeaconFilterError(f"{where}: '{text}' is not a value of '{ident}' ({', '.join(sorted(allowed))}).")
    out.add(name, text)


def _ontology(curie: str, where: str, out: Translation, genes: dict[str, str]) -> None:
    if MONDO.fullmatch(curie):
        out.add("disease", curie)
    elif curie in SEX_TERMS:
        out.add("sex", SEX_TERMS[curie].value)
    elif curie in ANCESTRY_TERMS:
        out.add("ancestry", ANCESTRY_TERMS[curie].value)
    elif curie in ONSET_TERMS:
        out.add("onset_site", ONSET_TERMS[curie].value)
    elif CL.fullmatch(curie):
        out.add("source_cell_type", curie)
    elif DUO.fullmatch(curie):
        out.add("purpose", curie)
    elif HGNC.fullmatch(curie):
        if curie not in genes:
            raise BeaconFilterError(f"{where}: '{curie}' is not an HGNC gene this beacon knows.")
        out.add("gene", genes[curie])
    else:
        raise BeaconFilterError(f"{where}: '{curie}' is not a filter this beacon knows (see filtering_terms).")


def normalise(raw: Any) -> list[dict]:
    """Filters as the request gave them (a list of CURIE strings or objects, or a
    comma-separated string from a GET query) → a list of {"id": ...} objects."""
    if raw in (None, "", []):
        return []
    if isinstance(raw, str):
        raw = [part for part in (p.strip() for p in raw.split(",")) if part]
    if not isinstance(raw, list):
        raise BeaconFilterError("filters: must be a list of filter objects or CURIEs.")
    items = []
    for index, item in enumerate(raw):
        if isinstance(item, str):
            item = {"id": item}
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"].strip():
            raise BeaconFilterError(f"filters[{index}]: must be a CURIE or an object with an 'id'.")
        items.append({**item, "id": item["id"].strip()})
    return items


def to_catalog_params(raw: Any) -> dict[str, list[str]]:
    """The CellLineFilter parameters of Beacon filters; raises BeaconFilterError."""
    items = normalise(raw)
    out = Translation()
    wanted_genes = [item["id"] for item in items if HGNC.fullmatch(item["id"])]
    genes = dict(Gene.objects.filter(hgnc_id__in=wanted_genes).values_list("hgnc_id", "symbol")) if wanted_genes else {}
    for index, item in enumerate(items):
        where = f"filters[{index}] ({item['id']})"
        if "value" in item or "operator" in item:
            _alphanumeric(item, where, out)
        else:
            if item.get("includeDescendantTerms") is False and MONDO.fullmatch(item["id"]):
                # The catalog's disease filter always includes subtypes, as Beacon's default.
                raise BeaconFilterError(f"{where}: includeDescendantTerms=false is not supported; ALS includes ALS1.")
            _ontology(item["id"], where, out, genes)
    return out.params


SEX_CURIES = {value: curie for curie, value in SEX_TERMS.items() if curie.startswith("NCIT:")}
ANCESTRY_CURIES = {value: curie for curie, value in ANCESTRY_TERMS.items()}


def from_catalog_params(params: Any) -> list[dict]:
    """Beacon filters for catalog parameters (the federated search sends these to every
    peer). `params` maps a parameter to its values (a QueryDict or a dict of lists)."""
    filters: list[dict] = []

    def values(name):
        got = params.getlist(name) if hasattr(params, "getlist") else params.get(name, [])
        return [v for v in ([got] if isinstance(got, str) else got) if v not in ("", None)]

    for curie in values("disease") + values("source_cell_type") + values("purpose"):
        filters.append({"id": curie})
    for sex in values("sex"):
        filters.append({"id": SEX_CURIES[sex]} if sex in SEX_CURIES else {"id": "sex", "operator": "=", "value": sex})
    for ancestry in values("ancestry"):
        curie = ANCESTRY_CURIES.get(ancestry)
        filters.append({"id": curie} if curie else {"id": "ancestry", "operator": "=", "value": ancestry})
    symbols = values("gene")
    known = dict(Gene.objects.filter(symbol__in=symbols).values_list("symbol", "hgnc_id")) if symbols else {}
    for symbol in symbols:
        filters.append({"id": known[symbol]} if symbol in known else {"id": "geneId", "operator": "=", "value": symbol})
    for ident, (name, _) in ALPHANUMERIC_EQUALS.items():
        if name in {"sex", "ancestry", "gene"}:
            continue
        for value in values(name):
            filters.append({"id": ident, "operator": "=", "value": value})
    for value in values("age_min"):
        filters.append({"id": "age", "operator": ">=", "value": value})
    for value in values("age_max"):
        filters.append({"id": "age", "operator": "<=", "value": value})
    return filters


# The parameters a federated query may carry (those from_catalog_params translates).
FEDERATED_PARAMS = (
    "disease",
    "gene",
    "variant",
    "sex",
    "ancestry",
    "onset_site",
    "family_history",
    "commercial_use",
    "in_stock",
    "source_cell_type",
    "purpose",
    "institution",
    "age_min",
    "age_max",
)
