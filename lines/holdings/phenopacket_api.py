"""Phenopackets over the API: a donor's phenopacket, and a phenopacket read into a
protocol v3 donor entry for a submission document.

GET /api/v1/donors/<code>/phenopacket/: 404 for a donor the caller may not see (no
line of theirs visible: lines.selectors.donors_visible_to), 403 when the consent keeps
the donor's clinical course from the caller (donors.disclosure); variants only where
genetic data is shown. POST /api/v1/submissions/phenopacket-donor/ (signed-in callers):
the phenopacket in the body, the donor entry back, or 400 naming every bad field.
"""

from django.db.models import Prefetch
from django.urls import path
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import exceptions, generics, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import AUTHENTICATION_CLASSES, RENDERER_CLASSES, reject_unknown_params
from donors.models import Variant
from donors.phenopacket_import import PhenopacketError, donor_entry
from donors.phenopackets import NotDisclosed, donor_phenopacket, phenopacket_json
from lines.holdings.serializers import check_lookup
from lines.selectors import donors_visible_to

DONOR_CODE_MAX = 20


@extend_schema(tags=["donors"], responses={200: OpenApiTypes.OBJECT})
class DonorPhenopacket(APIView):
    """The donor as a GA4GH Phenopacket v2 (JSON, camelCase): subject, disease (MONDO),
    HPO features, ALSFRS-R and FVC measurements, medication and milestones, with times as
    ages and never a date; variants only where the consent shows genetic data."""

    authentication_classes = AUTHENTICATION_CLASSES
    renderer_classes = RENDERER_CLASSES

    def get(self, request, code):
        check_lookup("code", code, DONOR_CODE_MAX)
        reject_unknown_params(request, ())
        donors = (
            donors_visible_to(request.user)
            .select_related("consent")
            .prefetch_related(
                "visits", "clinical_events", Prefetch("variants", queryset=Variant.objects.order_by("gene", "pk"))
            )
        )
        donor = generics.get_object_or_404(donors, code=code)
        try:
            packet = donor_phenopacket(donor, request.user)
        except NotDisclosed as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        response = Response(phenopacket_json(packet))
        response["Content-Disposition"] = f'inline; filename="{donor.code}.phenopacket.json"'
        return response


@extend_schema(tags=["submissions"], request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
class PhenopacketToDonor(APIView):
    """A Phenopacket v2 (the request body) read into a protocol v3 donor entry: donor
    fields and the `course` block, without consent (add it, or merge the entry into your
    document's donor of the same local id). 400 names each field that cannot be read."""

    authentication_classes = AUTHENTICATION_CLASSES
    renderer_classes = RENDERER_CLASSES
    permission_classes = [permissions.IsAuthenticated]

    def post(self, request):
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"$": ["The body must be a Phenopacket v2 JSON object."]})
        try:
            entry = donor_entry(request.data)
        except PhenopacketError as exc:
            errors: dict[str, list[str]] = {}
            for field, message in exc.problems:
                errors.setdefault(field, []).append(message)
            raise exceptions.ValidationError(errors) from exc
        return Response({"donor": entry})


urlpatterns = [
    path("donors/<str:code>/phenopacket/", DonorPhenopacket.as_view(), name="api-donor-phenopacket"),
    path("submissions/phenopacket-donor/", PhenopacketToDonor.as_view(), name="api-phenopacket-donor"),
]
