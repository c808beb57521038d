"""/api/beacon/v2/: parse the request, ask the entry type, answer a Beacon document.

Callers are anonymous, signed in (session, GET only) or carry an API token
("Authorization: Token …"). Anything malformed answers a schema-valid Beacon error
response naming what is wrong (400), never a 500."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework import exceptions

from core.lockout import ThrottledTokenAuthentication
from network.beacon import counts, framework
from network.beacon.entry_types import registered
from network.beacon.filters import BeaconFilterError
from network.beacon.granularity import RECORD, granted
from network.beacon.request import BeaconQuery, BeaconRequestError, from_body, from_get


def _absolute(request: HttpRequest, url: str | None) -> str | None:
    return request.build_absolute_uri(url) if url else None


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _json(document: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(document, status=status, json_dumps_params={"ensure_ascii": False})


def caller(request: HttpRequest):
    """The user behind the request: a token first; the session on GET only (a POST
    is csrf-exempt, so a browser's cookie must not carry it)."""
    found = ThrottledTokenAuthentication().authenticate(request)
    if found is not None:
        return found[0]
    return request.user if request.method == "GET" else None


@require_GET
def info(request):
    return _json(framework.info(_base(request)))


@require_GET
def configuration(request):
    return _json(framework.configuration())


@require_GET
def beacon_map(request):
    return _json(framework.beacon_map(_base(request)))


@require_GET
def entry_types(request):
    return _json(framework.entry_types())


@require_GET
def filtering_terms(request):
    return _json(framework.filtering_terms())


@csrf_exempt
@require_http_methods(["GET", "POST"])
def entries(request, endpoint):
    entry_type = registered().get(endpoint)
    if entry_type is None:
        known = ", ".join(registered())
        return _json(
            framework.error_response(None, 404, f"'{endpoint}' is not an entry type of this beacon ({known})."), 404
        )
    query: BeaconQuery | None = None
    try:
        user = caller(request)
        query = from_body(request.body) if request.method == "POST" else from_get(request.GET)
        count = counts.count(entry_type, user, query)
        records = None
        if (entry_type.collection and query.granularity == RECORD) or granted(query.granularity, user) == RECORD:
            rows = entry_type.matches(user, query)
            page = rows[query.skip : query.skip + query.limit] if query.limit else rows[query.skip :]
            records = [entry_type.record(row, user) for row in page]
        url = _absolute(request, entry_type.catalog_url(user, query))
    except (BeaconRequestError, BeaconFilterError) as error:
        return _json(framework.error_response(query, 400, str(error)), status=400)
    except exceptions.AuthenticationFailed as error:
        return _json(framework.error_response(query, 401, str(error.detail)), status=401)
    except exceptions.Throttled as error:
        return _json(framework.error_response(query, 429, str(error.detail)), status=429)
    return _json(framework.query_response(entry_type, query, user, count=count, records=records, catalog_url=url))
