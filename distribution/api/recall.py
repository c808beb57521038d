"""/api/v1/lots/{id}/recall/ (curators) and /api/v1/requests/{id}/receipt/ (the requester):
the stock side of distribution (distribution/actions/recall.py, distribution/actions/stock.py)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response

from distribution.actions.recall import recall_lot
from distribution.actions.stock import confirm_receipt
from distribution.api.common import DistributionAPIView, error_responses
from distribution.api.withdrawals import CuratorOnly
from distribution.models import DistributionRequest
from stock.models import Lot, LotStatus


class RecallInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, help_text="Why, e.g. a failed mycoplasma re-test.")
    status = serializers.ChoiceField(
        choices=[LotStatus.RECALLED, LotStatus.QUARANTINED], default=LotStatus.RECALLED, required=False
    )


class RecallReportSerializer(serializers.Serializer):
    quarantined_vials = serializers.IntegerField()
    held_requests = serializers.ListField(child=serializers.IntegerField())
    recipients = serializers.ListField(child=serializers.CharField(), help_text="Usernames told by e-mail.")


class ReceiptInputSerializer(serializers.Serializer):
    vial_ids = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=100, help_text="The vials that arrived."
    )


class ReceiptSerializer(serializers.Serializer):
    confirmed = serializers.ListField(child=serializers.CharField())


class LotRecallView(DistributionAPIView):
    permission_classes = [permissions.IsAuthenticated, CuratorOnly]

    @extend_schema(
        operation_id="lots_recall",
        summary="Recall or quarantine a lot (curator)",
        description="Its vials in the bank are quarantined, open requests that reserved them go on hold "
        "with the reason, and every past recipient of the lot is e-mailed.",
        request=RecallInputSerializer,
        responses={200: RecallReportSerializer, **error_responses(400, 401, 403, 404, 409)},
        tags=["stock"],
    )
    def post(self, request, pk):
        data = RecallInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lot = get_object_or_404(Lot.objects.select_related("line"), pk=pk)
        report = recall_lot(
            lot, by=request.user, reason=data.validated_data["reason"], status=data.validated_data["status"]
        )
        return Response(RecallReportSerializer(report).data)


class ReceiptView(DistributionAPIView):
    @extend_schema(
        operation_id="requests_receipt",
        summary="Confirm receipt of shipped vials, one by one (requester)",
        request=ReceiptInputSerializer,
        responses={200: ReceiptSerializer, **error_responses(400, 401, 403, 404)},
        tags=["distribution"],
    )
    def post(self, request, pk):
        data = ReceiptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = get_object_or_404(DistributionRequest.objects.visible_to(request.user), pk=pk)
        return Response({"confirmed": confirm_receipt(target, request.user, data.validated_data["vial_ids"])})
