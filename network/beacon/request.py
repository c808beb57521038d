"""A Beacon request, from a GET query string or a POST body (beaconRequestBody)."""

import json
from dataclasses import dataclass, field

from network.beacon import filters as beacon_filters
from network.beacon import granularity

MAX_LIMIT = 1000
DEFAULT_LIMIT = 10


class BeaconRequestError(ValueError):
    """A malformed request; the message names the part."""


@dataclass
class BeaconQuery:
    filters: list[dict] = field(default_factory=list)
    request_parameters: dict = field(default_factory=dict)
    granularity: str = granularity.COUNT
    skip: int = 0
    limit: int = DEFAULT_LIMIT
    include_resultset_responses: str = "HIT"
    api_version: str = "v2.0.0"
    requested_schemas: list = field(default_factory=list)

    def summary(self, granted: str) -> dict:
        """The receivedRequestSummary of the response."""
        out = {
            "apiVersion": self.api_version,
            "requestedSchemas": self.requested_schemas,
            "pagination": {"skip": self.skip, "limit": self.limit},
            "requestedGranularity": self.granularity,
        }
        if self.filters:
            out["filters"] = [f["id"] for f in self.filters]
        if self.request_parameters:
            # requestParameters.json keeps each entry type's parameters as one object
            # under its name (the default model's "g_variant").
            out["requestParameters"] = {"g_variant": self.request_parameters}
        out["includeResultsetResponses"] = self.include_resultset_responses
        return out


def _int(value, where, *, minimum, maximum):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BeaconRequestError(f"{where}: '{value}' is not a whole number.") from None
    if not minimum <= number <= maximum:
        raise BeaconRequestError(f"{where}: must be between {minimum} and {maximum}.")
    return number


def _granularity(value, where):
    if value not in granularity.ORDER:
        raise BeaconRequestError(f"{where}: '{value}' is not one of boolean, count, record.")
    return value


# GET parameters that are entry-type request parameters (g_variants), not framework ones.
FRAMEWORK_GET = {"filters", "requestedGranularity", "skip", "limit", "includeResultsetResponses", "requestedSchema"}


def from_get(query) -> BeaconQuery:
    parsed = BeaconQuery()
    try:
        parsed.filters = beacon_filters.normalise(query.get("filters", ""))
    except beacon_filters.BeaconFilterError as error:
        raise BeaconRequestError(str(error)) from error
    if "requestedGranularity" in query:
        parsed.granularity = _granularity(query["requestedGranularity"], "requestedGranularity")
    if "skip" in query:
        parsed.skip = _int(query["skip"], "skip", minimum=0, maximum=10**7)
    if "limit" in query:
        parsed.limit = _int(query["limit"], "limit", minimum=0, maximum=MAX_LIMIT)
    parsed.request_parameters = {k: query[k] for k in query if k not in FRAMEWORK_GET}
    return parsed


def from_body(body: bytes) -> BeaconQuery:
    if not body.strip():
        return BeaconQuery()
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BeaconRequestError(f"body: not JSON ({error}).") from None
    if not isinstance(document, dict):
        raise BeaconRequestError("body: must be a JSON object (a Beacon request body).")
    parsed = BeaconQuery()
    meta = document.get("meta", {})
    if not isinstance(meta, dict):
        raise BeaconRequestError("meta: must be an object.")
    if "apiVersion" in meta:
        parsed.api_version = str(meta["apiVersion"])
    schemas = meta.get("requestedSchemas", [])
    if not isinstance(schemas, list):
        raise BeaconRequestError("meta.requestedSchemas: must be a list.")
    parsed.requested_schemas = schemas
    query = document.get("query", {})
    if not isinstance(query, dict):
        raise BeaconRequestError("query: must be an object.")
    try:
        parsed.filters = beacon_filters.normalise(query.get("filters", []))
    except beacon_filters.BeaconFilterError as error:
        raise BeaconRequestError(f"query.{error}") from error
    params = query.get("requestParameters", {})
    if not isinstance(params, dict):
        raise BeaconRequestError("query.requestParameters: must be an object.")
    if set(params) == {"g_variant"}:
        # The parameters under the entry type's name, as requestParameters.json groups them.
        params = params["g_variant"]
        if not isinstance(params, dict):
            raise BeaconRequestError("query.requestParameters.g_variant: must be an object.")
    parsed.request_parameters = params
    if "requestedGranularity" in query:
        parsed.granularity = _granularity(query["requestedGranularity"], "query.requestedGranularity")
    pagination = query.get("pagination", {})
    if not isinstance(pagination, dict):
        raise BeaconRequestError("query.pagination: must be an object.")
    if "skip" in pagination:
        parsed.skip = _int(pagination["skip"], "query.pagination.skip", minimum=0, maximum=10**7)
    if "limit" in pagination:
        parsed.limit = _int(pagination["limit"], "query.pagination.limit", minimum=0, maximum=MAX_LIMIT)
    include = query.get("includeResultsetResponses", "HIT")
    if include not in ("ALL", "HIT", "MISS", "NONE"):
        raise BeaconRequestError(f"query.includeResultsetResponses: '{include}' is not one of ALL, HIT, MISS, NONE.")
    parsed.include_resultset_responses = include
    return parsed
