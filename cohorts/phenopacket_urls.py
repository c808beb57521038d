"""GET /api/v1/cohorts/<public_id>/phenopackets.zip[?version=n]: a saved cohort's
phenopackets (cohorts.phenopackets). 404 for a cohort the caller may not see
(cohorts.selectors.visible_cohorts); the latest version unless `version` is given.
Kept apart from cohorts/api.py (the cohort builder's endpoints)."""

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema
from rest_framework import exceptions
from rest_framework.views import APIView

from cohorts.phenopackets import cohort_phenopackets_zip
from cohorts.selectors import visible_cohorts
from core.api import AUTHENTICATION_CLASSES, RENDERER_CLASSES, bad_parameter, reject_unknown_params

PUBLIC_ID_MAX = 12


@extend_schema(
    tags=["cohorts"],
    parameters=[OpenApiParameter("version", OpenApiTypes.INT, description="A saved version; the latest by default.")],
    responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="Phenopackets v2 zip.")},
)
class CohortPhenopackets(APIView):
    """The saved cohort as a zip: one Phenopacket v2 per member donor, as you may see it,
    and cohort.json (members, and the donors withheld with the reason)."""

    authentication_classes = AUTHENTICATION_CLASSES
    renderer_classes = RENDERER_CLASSES

    def get(self, request, public_id):
        if len(public_id) > PUBLIC_ID_MAX:
            raise exceptions.NotFound()
        reject_unknown_params(request, ("version",))
        cohorts = visible_cohorts(request.user).filter(public_id=public_id).order_by("-version")
        version = request.query_params.get("version")
        if version is not None:
            if not version.isdigit() or int(version) < 1:
                raise bad_parameter("version", "A whole number from 1.")
            cohorts = cohorts.filter(version=int(version))
        cohort = cohorts.first()
        if cohort is None:
            raise exceptions.NotFound()
        response = HttpResponse(cohort_phenopackets_zip(cohort, request.user), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{cohort.label}.phenopackets.zip"'
        return response


urlpatterns = [
    path("cohorts/<str:public_id>/phenopackets.zip", CohortPhenopackets.as_view(), name="api-cohort-phenopackets"),
]
