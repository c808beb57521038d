"""/api/v1/cohorts/: build a proposal, save it (stable id, versions), list and read
the cohorts you may see (cohorts.selectors.visible_cohorts), export members as CSV
and as a plate map, and turn a saved cohort into one distribution request.

Views parse, call the builder, an action or a selector, and answer. A definition
the builder cannot read, or a cohort the catalog cannot give, is a 400 naming
where or which arm and constraint; a cohort the caller may not see is a 404."""

import csv
import io

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from cohorts.actions import CohortNotFound, request_cohort, save_cohort
from cohorts.builder import EXCLUSIONS_PER_REASON, CohortImpossible, build
from cohorts.definition import DefinitionError, parse_definition
from cohorts.plates import PlateError, plate_map
from cohorts.selectors import member_rows, visible_cohort, visible_cohorts
from cohorts.serializers import (
    CohortRequestSerializer,
    CohortSerializer,
    CohortSummarySerializer,
    DefinitionSerializer,
    ProposalSerializer,
    SaveCohortSerializer,
)
from core.api import AUTHENTICATION_CLASSES, RENDERER_CLASSES, reject_unknown_params
from distribution.api.common import request_body, request_queryset
from distribution.api.serializers import DistributionRequestSerializer
from distribution.models import WorkflowError

TAGS = ["cohorts"]
CSV_RESPONSE = OpenApiResponse(OpenApiTypes.STR, description="CSV, header first")
# A 400 is a definition problem ({"detail", "problems"}), an impossible cohort ({"detail",
# "arm", "constraint", "counts"}) or input validation ({"<field>": [messages]}): one schema admits all.
BAD = OpenApiResponse(
    {
        "type": "object",
        "properties": {
            "detail": {"type": "string"},
            "arm": {"type": "string", "description": "The arm that cannot be filled."},
            "constraint": {"type": "string", "description": "filters, consent, qc, stock, donor or matching."},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "problems": {"type": "object", "additionalProperties": {}, "description": "Where → what is wrong."},
        },
        "additionalProperties": {},
    },
    description="A definition problem, an impossible cohort (which arm, which constraint, what to loosen) or "
    "bad input.",
)
VERSION = OpenApiParameter("version", int, description="A saved version (default: the latest).")
MAX_EXCLUSIONS_PER_REASON = 10_000
EXCLUSIONS_PER_REASON_PARAM = OpenApiParameter(
    "exclusions_per_reason",
    int,
    description=f"How many excluded lines to list for each reason of each arm, first by name (default "
    f"{EXCLUSIONS_PER_REASON}, at most {MAX_EXCLUSIONS_PER_REASON}); every excluded line is counted.",
)


def exclusions_per_reason(request) -> int:
    value = request.query_params.get("exclusions_per_reason", str(EXCLUSIONS_PER_REASON))
    if not value.isdigit() or int(value) > MAX_EXCLUSIONS_PER_REASON:
        raise ValidationError({"exclusions_per_reason": [f"A whole number from 0 to {MAX_EXCLUSIONS_PER_REASON}."]})
    return int(value)


MEMBER_COLUMNS = (
    "cohort",
    "version",
    "position",
    "arm",
    "role",
    "line",
    "donor",
    "sex",
    "age_at_sampling",
    "ancestry",
    "matched_to",
)


class CohortAPIView(APIView):
    authentication_classes = AUTHENTICATION_CLASSES
    renderer_classes = RENDERER_CLASSES
    permission_classes = [permissions.IsAuthenticated]

    def handle_exception(self, exc):
        if isinstance(exc, DefinitionError):
            return Response(
                {"detail": "The cohort definition has problems.", "problems": exc.problems},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if isinstance(exc, CohortImpossible):
            return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        if isinstance(exc, WorkflowError):
            body = {"detail": exc.message, **({"problems": exc.problems} if exc.problems else {})}
            return Response(body, status=exc.status_code)
        return super().handle_exception(exc)

    def cohort(self, request, public_id):
        version = request.query_params.get("version")
        if version is not None and not version.isdigit():
            raise ValidationError({"version": ["Must be a whole number."]})
        cohort = visible_cohort(request.user, public_id, int(version) if version else None)
        if cohort is None:
            raise NotFound("No such cohort, or not visible to you.")
        return cohort


class ProposalView(CohortAPIView):
    @extend_schema(
        tags=TAGS,
        summary="Propose a cohort",
        description="Build a definition without saving it: members per arm, the balance table (SMD per covariate "
        "against the first arm) and the excluded lines with their reasons (all counted, the first of each reason listed).",
        request=DefinitionSerializer,
        parameters=[EXCLUSIONS_PER_REASON_PARAM],
        responses={200: ProposalSerializer, 400: BAD},
    )
    def post(self, request):
        per_reason = exclusions_per_reason(request)
        return Response(build(parse_definition(request.data), request.user, exclusions_per_reason=per_reason))


class CohortListView(CohortAPIView):
    def get_permissions(self):
        return [permissions.AllowAny()] if self.request.method == "GET" else super().get_permissions()

    @extend_schema(
        tags=TAGS,
        summary="Saved cohorts you may see",
        description="Every version of your own cohorts and the shared ones (curators: all), newest first.",
        responses={200: CohortSummarySerializer(many=True)},
    )
    def get(self, request):
        reject_unknown_params(request, set())
        cohorts = visible_cohorts(request.user).select_related("owner")[:500]
        return Response(CohortSummarySerializer(cohorts, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Save a cohort",
        description="Builds the definition afresh and saves it: a new public id, or with `public_id` the next "
        "version of your cohort (saving it unchanged answers 200 with the latest version).",
        request=SaveCohortSerializer,
        responses={201: CohortSerializer, 200: CohortSerializer, 400: BAD},
    )
    def post(self, request):
        body = SaveCohortSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            cohort, created = save_cohort(
                request.user,
                request.data["definition"],
                name=data["name"],
                description=data["description"],
                shared=data["shared"],
                public_id=data.get("public_id"),
            )
        except CohortNotFound as error:
            raise NotFound(f"You have no cohort {error}.") from error
        body = CohortSerializer(cohort).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class CohortDetailView(CohortAPIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(tags=TAGS, summary="A saved cohort", parameters=[VERSION], responses={200: CohortSerializer})
    def get(self, request, public_id):
        reject_unknown_params(request, {"version"})
        return Response(CohortSerializer(self.cohort(request, public_id)).data)


def _csv(rows, filename, preamble=()):
    buffer = io.StringIO()
    for line in preamble:
        buffer.write(f"# {line}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class MembersCSVView(CohortAPIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(tags=TAGS, summary="A cohort's lines as CSV", parameters=[VERSION], responses={200: CSV_RESPONSE})
    def get(self, request, public_id):
        reject_unknown_params(request, {"version"})
        cohort = self.cohort(request, public_id)
        rows = [MEMBER_COLUMNS] + [
            (
                cohort.public_id,
                cohort.version,
                m["position"],
                m["arm"],
                m["role"],
                m["line"],
                m["donor"],
                m["sex"],
                m["age"] if m["age"] is not None else "",
                m["ancestry"],
                m["matched_to"],
            )
            for m in member_rows(cohort)
        ]
        return _csv(rows, f"{cohort.label}.csv")


class PlateMapView(CohortAPIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=TAGS,
        summary="A plate map of a cohort",
        description="The cohort's lines on 96- or 384-well plates in an order randomised with the seed (the "
        "cohort's unless `seed` is given; stated in the file), edge wells avoided or used.",
        parameters=[
            VERSION,
            OpenApiParameter("wells", int, enum=[96, 384], description="Plate size (default 96)."),
            OpenApiParameter("edges", str, enum=["avoid", "use"], description="Edge wells (default avoid)."),
            OpenApiParameter("seed", int, description="Another randomisation (default: the cohort's seed)."),
        ],
        responses={200: CSV_RESPONSE, 400: BAD},
    )
    def get(self, request, public_id):
        reject_unknown_params(request, {"version", "wells", "edges", "seed"})
        cohort = self.cohort(request, public_id)
        wells, seed = request.query_params.get("wells", "96"), request.query_params.get("seed", str(cohort.seed))
        edges = request.query_params.get("edges", "avoid")
        if not wells.isdigit() or not seed.isdigit():
            raise ValidationError({"wells" if not wells.isdigit() else "seed": ["Must be a whole number."]})
        try:
            layout = plate_map(member_rows(cohort), size=int(wells), edges=edges, seed=int(seed))
        except PlateError as error:
            raise ValidationError({k: [v] for k, v in error.problems.items()}) from error
        rows = [("plate", "well", "line", "arm", "role")] + [
            (p["plate"], p["well"], p["line"], p["arm"], p["role"]) for p in layout
        ]
        preamble = [
            f"cohort {cohort.label} ({cohort.name})",
            f"wells {wells}; edge wells {'left empty' if edges == 'avoid' else 'used'}; seed {seed}",
        ]
        return _csv(rows, f"{cohort.label}-plates-{wells}.csv", preamble)


class CohortRequestView(CohortAPIView):
    @extend_schema(
        tags=TAGS,
        summary="Request a cohort's lines",
        description="One draft distribution request for every line of the cohort (latest version unless "
        "`version`), with the cohort's purpose; each line judged against its donor's consent. A cohort "
        "already requested answers with its request.",
        parameters=[VERSION],
        request=CohortRequestSerializer,
        responses={201: DistributionRequestSerializer, 400: BAD, 403: BAD, 404: BAD},
    )
    def post(self, request, public_id):
        cohort = self.cohort(request, public_id)
        body = CohortRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        already = cohort.request_id is not None
        made = request_cohort(request.user, cohort, **body.validated_data)
        made = request_queryset(request.user).get(pk=made.pk)
        return Response(
            request_body(made, request.user), status=status.HTTP_200_OK if already else status.HTTP_201_CREATED
        )


urlpatterns = [
    path("cohorts/", CohortListView.as_view(), name="api-cohorts"),
    path("cohorts/proposals/", ProposalView.as_view(), name="api-cohort-proposals"),
    path("cohorts/<str:public_id>/", CohortDetailView.as_view(), name="api-cohort"),
    path("cohorts/<str:public_id>/members.csv", MembersCSVView.as_view(), name="api-cohort-csv"),
    path("cohorts/<str:public_id>/plate-map.csv", PlateMapView.as_view(), name="api-cohort-plates"),
    path("cohorts/<str:public_id>/request/", CohortRequestView.as_view(), name="api-cohort-request"),
]
