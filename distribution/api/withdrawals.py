"""/api/v1/withdrawals/: record a consent or line withdrawal, and see who holds material (curators)."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.api import reject_unknown_params
from core.roles import is_curator
from distribution.actions.withdrawal import withdraw_consent, withdraw_line
from distribution.api.common import DistributionAPIView, error_responses
from distribution.api.serializers import (
    ConsentWithdrawalInputSerializer,
    LineWithdrawalInputSerializer,
    MaterialRecipientSerializer,
    RecipientsQuerySerializer,
    WithdrawalReportSerializer,
)
from distribution.selectors import recipients_holding
from donors.models import Donor
from lines.models import CellLine


class CuratorOnly(permissions.BasePermission):
    message = "Only curators may withdraw consent or lines and see who holds material."

    def has_permission(self, request, view):
        return is_curator(request.user)


class ConsentWithdrawalView(DistributionAPIView):
    permission_classes = [permissions.IsAuthenticated, CuratorOnly]

    @extend_schema(
        operation_id="withdrawals_consent",
        summary="Record a donor's withdrawal of consent (curator)",
        description="In one transaction: consent marked withdrawn, the donor's lines withdrawn and not "
        "distributed, open requests for them put on hold; then requesters and past "
        "recipients are e-mailed. Answers who holds material.",
        request=ConsentWithdrawalInputSerializer,
        responses={200: WithdrawalReportSerializer, **error_responses(400, 401, 403, 404, 409)},
        tags=["distribution"],
    )
    def post(self, request):
        data = ConsentWithdrawalInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        donor = get_object_or_404(Donor.objects.all(), code=values["donor"])
        on = values["withdrawn_on"] or timezone.localdate()
        if on > timezone.localdate():
            raise ValidationError({"withdrawn_on": ["Cannot be in the future."]})
        report = withdraw_consent(donor, by=request.user, on=on, reason=values["reason"])
        return Response(WithdrawalReportSerializer(report).data)


class LineWithdrawalView(DistributionAPIView):
    permission_classes = [permissions.IsAuthenticated, CuratorOnly]

    @extend_schema(
        operation_id="withdrawals_line",
        summary="Withdraw a line, e.g. after a failed QC (curator)",
        description="In one transaction: the line withdrawn and not distributed, open requests for it "
        "put on hold; then requesters and past recipients are e-mailed.",
        request=LineWithdrawalInputSerializer,
        responses={200: WithdrawalReportSerializer, **error_responses(400, 401, 403, 404, 409)},
        tags=["distribution"],
    )
    def post(self, request):
        data = LineWithdrawalInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = get_object_or_404(CellLine.objects.all(), name=data.validated_data["line"])
        report = withdraw_line(line, by=request.user, reason=data.validated_data["reason"])
        return Response(WithdrawalReportSerializer(report).data)


class RecipientsView(DistributionAPIView):
    permission_classes = [permissions.IsAuthenticated, CuratorOnly]

    @extend_schema(
        operation_id="withdrawals_recipients",
        summary="Who holds material of a donor or a line (curator)",
        parameters=[
            OpenApiParameter("donor", str, description="Donor code."),
            OpenApiParameter("line", str, description="Line name."),
        ],
        responses={200: MaterialRecipientSerializer(many=True), **error_responses(400, 401, 403)},
        tags=["distribution"],
    )
    def get(self, request):
        reject_unknown_params(request, ("donor", "line"))
        params = RecipientsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        donor, line = params.validated_data.get("donor"), params.validated_data.get("line")
        if not donor and not line:
            raise ValidationError({"donor": ["Give a donor code or a line name (line=…)."]})
        lines = CellLine.objects.all()
        if donor:
            lines = lines.filter(donor__code=donor)
        if line:
            lines = lines.filter(name=line)
        return Response(MaterialRecipientSerializer(recipients_holding(lines), many=True).data)
