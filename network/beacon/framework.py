"""The Beacon v2 framework documents: meta sections, the informational endpoints
(info, configuration, map, entry_types, filtering_terms), the query envelopes
(boolean, count, resultsets, collections) and the error response. Each validates
against the official schemas (tests/network/beacon/ check every one)."""

from typing import Any

from django.conf import settings

from core.models import CellType, DiseaseTerm, DuoTerm, Gene
from donors.models import Donor, Variant
from lines.models import CellLine
from network.beacon import filters as beacon_filters
from network.beacon import granularity
from network.beacon.entry_types import EntryType, registered
from network.beacon.request import BeaconQuery

API_VERSION = "v2.0.0"
SPECIFICATION = "Beacon v2.0"
SCHEMA_BASE = "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/models/json/beacon-v2-default-model/"


def returned_schemas(entry_types: list[EntryType]) -> list[dict]:
    return [{"entityType": t.id, "schema": t.schema_name} for t in entry_types]


def informational_meta(entry_types: list[EntryType] | None = None) -> dict:
    return {
        "beaconId": settings.BEACON_ID,
        "apiVersion": API_VERSION,
        "returnedSchemas": returned_schemas(entry_types or []),
    }


def response_meta(query: BeaconQuery, returned: str, entry_types: list[EntryType]) -> dict:
    return {
        **informational_meta(entry_types),
        "returnedGranularity": returned,
        "receivedRequestSummary": query.summary(returned),
    }


def info(base_url: str) -> dict:
    return {
        "meta": informational_meta(),
        "response": {
            "id": settings.BEACON_ID,
            "name": settings.PRISM_BANK_NAME,
            "apiVersion": API_VERSION,
            "environment": settings.BEACON_ENVIRONMENT,
            "description": "A PRISM Catalog of iPSC lines: donors, lines, lots, variants and consent, as a Beacon.",
            "welcomeUrl": base_url + "/",
            "organization": {"id": settings.BEACON_ID, "name": settings.PRISM_BANK_NAME, "welcomeUrl": base_url + "/"},
            "info": {"prism": True, "countThreshold": settings.BEACON_COUNT_THRESHOLD},
        },
    }


def entry_type_definition(entry_type: EntryType) -> dict:
    definition = {
        "id": entry_type.id,
        "name": entry_type.name,
        "description": entry_type.description,
        "ontologyTermForThisType": entry_type.ontology_term,
        "partOfSpecification": SPECIFICATION,
        "defaultSchema": {
            "id": entry_type.schema_name,
            "name": f"Default schema for {entry_type.name.lower()}",
            "referenceToSchemaDefinition": SCHEMA_BASE + entry_type.schema_path,
            "schemaVersion": API_VERSION,
        },
        "nonFilteredQueriesAllowed": True,
    }
    if entry_type.collection:
        definition["aCollectionOf"] = [{"id": "biosample", "name": "Cell lines"}]
    return definition


def entry_types_section() -> dict:
    return {t.id: entry_type_definition(t) for t in registered().values()}


def configuration() -> dict:
    return {
        "meta": informational_meta(list(registered().values())),
        "response": {
            "$schema": "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/framework/json/configuration/beaconConfigurationSchema.json",
            "maturityAttributes": {"productionStatus": settings.BEACON_PRODUCTION_STATUS},
            "securityAttributes": {
                "defaultGranularity": granularity.COUNT,
                "securityLevels": ["PUBLIC", "REGISTERED"],
            },
            "entryTypes": entry_types_section(),
        },
    }


def entry_types() -> dict:
    return {"meta": informational_meta(list(registered().values())), "response": {"entryTypes": entry_types_section()}}


def beacon_map(base_url: str) -> dict:
    root = base_url + "/api/beacon/v2/"
    return {
        "meta": informational_meta(list(registered().values())),
        "response": {
            "$schema": "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/framework/json/configuration/beaconMapSchema.json",
            "endpointSets": {
                t.id: {
                    "entryType": t.id,
                    "rootUrl": root + t.endpoint,
                    "openAPIEndpointsDefinition": SCHEMA_BASE
                    + t.schema_path.replace("defaultSchema.json", "endpoints.json"),
                }
                for t in registered().values()
            },
        },
    }


FILTERING_TERMS: list[dict[str, Any]] = [
    {"type": "alphanumeric", "id": "age", "label": "Donor age at sampling (years or P50Y; >=, >, <=, <, =)"},
    *[
        {
            "type": "alphanumeric",
            "id": ident,
            "label": f"{ident} (=)",
            **({"values": sorted(allowed)} if allowed else {}),
        }
        for ident, (_, allowed) in beacon_filters.ALPHANUMERIC_EQUALS.items()
    ],
    *[{"type": "NCIT", "id": curie, "label": label} for curie, label in beacon_filters.SEX_LABELS.items()],
    *[
        {"type": "HANCESTRO", "id": curie, "label": group.label}
        for curie, group in beacon_filters.ANCESTRY_TERMS.items()
    ],
    *[
        {"type": "HP", "id": curie, "label": f"onset site: {site.label}"}
        for curie, site in beacon_filters.ONSET_TERMS.items()
    ],
]


def filtering_terms() -> dict:
    """The catalog's vocabularies in use: the diseases of its donors (MONDO; any MONDO id
    is accepted and includes its subtypes), genes of its variants (HGNC), source cell
    types (CL), DUO purposes, sex, ancestry and the alphanumeric filters."""
    scopes = ["biosample", "individual", "genomicVariation"]
    diseases = DiseaseTerm.objects.filter(curie__in=Donor.objects.values("disease")).order_by("curie")
    genes = Gene.objects.filter(symbol__in=Variant.objects.values("gene")).order_by("symbol")
    cells = CellType.objects.filter(curie__in=CellLine.objects.values("source_cell_type")).order_by("curie")
    duo = DuoTerm.objects.filter(branch=DuoTerm.Branch.PERMISSION).order_by("curie")
    terms = [
        *[{"type": "MONDO", "id": d.curie, "label": d.label, "scopes": scopes} for d in diseases],
        *[{"type": "HGNC", "id": g.hgnc_id, "label": g.symbol, "scopes": scopes} for g in genes],
        *[{"type": "CL", "id": c.curie, "label": c.label, "scopes": ["biosample"]} for c in cells],
        *[{"type": "DUO", "id": t.curie, "label": t.label, "scopes": ["biosample", "individual"]} for t in duo],
        *[{**term, "scopes": scopes} for term in FILTERING_TERMS],
    ]
    return {
        "meta": informational_meta(list(registered().values())),
        "response": {
            "filteringTerms": terms,
            "resources": [
                {
                    "id": "mondo",
                    "name": "Mondo Disease Ontology",
                    "nameSpacePrefix": "MONDO",
                    "iriPrefix": "http://purl.obolibrary.org/obo/MONDO_",
                },
                {"id": "hgnc", "name": "HGNC", "nameSpacePrefix": "HGNC", "iriPrefix": "https://identifiers.org/hgnc:"},
                {
                    "id": "cl",
                    "name": "Cell Ontology",
                    "nameSpacePrefix": "CL",
                    "iriPrefix": "http://purl.obolibrary.org/obo/CL_",
                },
                {
                    "id": "duo",
                    "name": "Data Use Ontology",
                    "nameSpacePrefix": "DUO",
                    "iriPrefix": "http://purl.obolibrary.org/obo/DUO_",
                },
                {
                    "id": "ncit",
                    "name": "NCI Thesaurus",
                    "nameSpacePrefix": "NCIT",
                    "iriPrefix": "http://purl.obolibrary.org/obo/NCIT_",
                },
                {
                    "id": "hancestro",
                    "name": "Human Ancestry Ontology",
                    "nameSpacePrefix": "HANCESTRO",
                    "iriPrefix": "http://purl.obolibrary.org/obo/HANCESTRO_",
                },
                {
                    "id": "hp",
                    "name": "Human Phenotype Ontology",
                    "nameSpacePrefix": "HP",
                    "iriPrefix": "http://purl.obolibrary.org/obo/HP_",
                },
            ],
        },
    }


def handover(url: str) -> dict:
    return {
        "handoverType": {"id": "CUSTOM:prism-catalog", "label": "Matching lines in the bank's catalog"},
        "url": url,
        "note": "The bank's catalog page at the same filters.",
    }


def query_response(
    entry_type: EntryType,
    query: BeaconQuery,
    user: Any,
    *,
    count: int,
    records: list[dict] | None,
    catalog_url: str | None,
) -> dict:
    """A boolean, count or resultsets response for `count` matches (`records` when the
    caller may see and asked for them)."""
    # A collection (the holdings dataset) describes the bank, not a donor: anyone may list it.
    asked = query.granularity if entry_type.collection else granularity.granted(query.granularity, user)
    summary, returned, hidden = granularity.summary(
        count, granularity.COUNT if asked == granularity.RECORD else asked, user
    )
    if asked == granularity.RECORD and records is not None:
        returned = granularity.RECORD
    document: dict = {"meta": response_meta(query, returned, [entry_type]), "responseSummary": summary}
    if hidden is not None:
        document["info"] = {"countRange": hidden, "countThreshold": settings.BEACON_COUNT_THRESHOLD}
    if catalog_url:
        document["beaconHandovers"] = [handover(catalog_url)]
    if returned == granularity.RECORD:
        if entry_type.collection:
            document["response"] = {"collections": records}
        else:
            document["response"] = {
                "resultSets": [
                    {
                        "id": settings.BEACON_ID,
                        "setType": "dataset",
                        "exists": count > 0,
                        "resultsCount": count,
                        "results": records,
                    }
                ]
            }
    return document


def error_response(query: BeaconQuery | None, code: int, message: str) -> dict:
    query = query or BeaconQuery()
    return {
        "meta": response_meta(query, granularity.BOOLEAN, []),
        "error": {"errorCode": code, "errorMessage": message},
    }
