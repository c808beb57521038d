"""The federated search: a page (/network/) and its API (/api/v1/network/search/)."""

from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from donors.models import OnsetSite, Sex
from network.beacon.filters import BeaconFilterError
from network.federation.search import federated_search


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@require_GET
def search_api(request):
    try:
        params, answers = federated_search(request.user, request.GET, _base(request))
    except BeaconFilterError as error:
        return JsonResponse({"detail": str(error)}, status=400)
    rows = []
    for answer in answers:
        row = answer.as_dict()
        if answer.local and row["catalog_url"]:
            row["catalog_url"] = request.build_absolute_uri(row["catalog_url"])
        rows.append(row)
    return JsonResponse({"query": params, "banks": rows})


@require_GET
def search_page(request):
    error, params, answers = None, {}, []
    if request.GET:
        try:
            params, answers = federated_search(request.user, request.GET, _base(request))
        except BeaconFilterError as problem:
            error = str(problem)
    return render(
        request,
        "network/search.html",
        {
            "answers": answers,
            "params": params,
            "error": error,
            "asked": bool(request.GET),
            "sexes": Sex.choices,
            "onset_sites": OnsetSite.choices,
            "value": {name: values[0] for name, values in params.items()},
        },
        status=400 if error else 200,
    )


page_urls = [path("", search_page, name="network-search")]
api_urls = [path("network/search/", search_api, name="api-network-search")]
