"""/api/v1/ eligibility and requests: ask, create, list and read.

Views parse, look up with visible_to(user), call one action, and answer."""

import django_filters as filters
from django.db.models import Count
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.api import KeysetPagination, StrictDjangoFilterBackend
from core.double_submits import key_of
from distribution.actions.requests import create_request
from distribution.api.common import (
    DistributionAPIView,
    WorkflowErrorsMixin,
    error_responses,
    purpose_and_lines,
    request_body,
    request_queryset,
)
from distribution.api.serializers import (
    DistributionRequestCreateSerializer,
    DistributionRequestSerializer,
    DistributionRequestSummarySerializer,
    EligibilityInputSerializer,
    EligibilityOutputSerializer,
)
from distribution.eligibility import evaluate_lines
from distribution.models import DistributionRequest, RequestStatus
from lines.holdings.filters import BoolFilter


class RequestFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(
        choices=RequestStatus.choices, distinct=False, help_text="Only these statuses (repeatable)."
    )
    on_hold = BoolFilter(field_name="on_hold", help_text="Only requests on hold (true) or not (false).")

    class Meta:
        model = DistributionRequest
        fields = []


# --- eligibility -------------------------------------------------------------------


class EligibilityView(DistributionAPIView):
    # Creates nothing and shows only lines the caller may see, so anyone may ask.
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="eligibility_check",
        summary="May this purpose use these lines? (creates nothing)",
        description="For each line: APPROVE, DENY or ABSTAIN (a curator decides) under its donor's consent "
        "(GA4GH DUO), with reasons (each with its DUO CURIE) and the conditions you would "
        "accept in the agreement. Unknown lines, DUO codes or MONDO ids are a 400 naming "
        "them; lines you may not see count as unknown.",
        request=EligibilityInputSerializer,
        responses={200: EligibilityOutputSerializer, **error_responses(400)},
        tags=["distribution"],
    )
    def post(self, request):
        data = EligibilityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        purpose, lines = purpose_and_lines(data.validated_data, request.user)
        results = evaluate_lines(lines, purpose)
        return Response({"results": [r.as_dict() for r in results]})


# --- requests ----------------------------------------------------------------------


class RequestListView(WorkflowErrorsMixin, generics.GenericAPIView):
    filter_backends = [StrictDjangoFilterBackend]
    filterset_class = RequestFilter
    pagination_class = KeysetPagination
    ordering_fields = {"created_at": "created_at", "submitted_at": "submitted_at", "id": "pk"}
    default_ordering = ("-created_at",)

    def get_serializer_class(self):
        # Also what OPTIONS describes: the create input for POST, the summary otherwise.
        if self.request is not None and self.request.method == "POST":
            return DistributionRequestCreateSerializer
        return DistributionRequestSummarySerializer

    def get_queryset(self):
        return (
            DistributionRequest.objects.visible_to(self.request.user)
            .select_related("requester")
            .annotate(line_count=Count("items"))
        )

    @extend_schema(
        operation_id="requests_list",
        summary="Distribution requests: your own, or all for curators",
        responses={
            200: DistributionRequestSummarySerializer(many=True),
            **error_responses(400, 401),
        },
        tags=["distribution"],
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(DistributionRequestSummarySerializer(page, many=True).data)

    @extend_schema(
        operation_id="requests_create",
        summary="Create a draft request (researchers and depositors)",
        description="Every line is judged against its donor's consent at once; a line your purpose "
        "may not use (DENY) is refused with a 400 naming it. Submit the draft with "
        "`requests/{id}/submit/`.",
        request=DistributionRequestCreateSerializer,
        responses={201: DistributionRequestSerializer, **error_responses(400, 401, 403)},
        tags=["distribution"],
    )
    def post(self, request):
        data = DistributionRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        purpose, lines = purpose_and_lines(values, request.user)
        vials = values.get("vials") or {}
        stray = sorted(set(vials) - {line.name for line in lines})
        if stray:
            raise ValidationError({"vials": [f"Not a requested line: {n}" for n in stray]})
        lots = values.get("lots") or {}
        stray = sorted(set(lots) - {line.name for line in lines})
        if stray:
            raise ValidationError({"lots": [f"Not a requested line: {n}" for n in stray]})
        created = create_request(
            request.user,
            lines,
            idempotency_key=key_of(request),
            purpose_codes=purpose.codes,
            purpose_disease=purpose.disease,
            commercial=purpose.commercial,
            organisation_type=purpose.organisation_type,
            organisation=values.get("organisation", ""),
            shipping_address=values.get("shipping_address", ""),
            purpose_summary=values.get("purpose_summary", ""),
            vials=vials,
            lots=lots,
            accepted_conditions=values.get("accepted_conditions", ()),
        )
        return Response(
            request_body(request_queryset(request.user).get(pk=created.pk), request.user),
            status=status.HTTP_201_CREATED,
        )


class RequestDetailView(DistributionAPIView):
    @extend_schema(
        operation_id="requests_retrieve",
        summary="One request with its lines, shipments and history",
        responses={200: DistributionRequestSerializer, **error_responses(401, 404)},
        tags=["distribution"],
    )
    def get(self, request, pk):
        return Response(request_body(get_object_or_404(request_queryset(request.user), pk=pk), request.user))
