"""Stock API under /api/v1/: lots (everyone who may see the line: counts and lot QC,
never positions) and vials (curators: identifiers, status, storage positions), with
cursor pages; receiving a vial file; a lot's certificate of analysis and labels.

Every queryset starts from `visible_to(user)` (Lot: the lines the user may see;
Vial: curators only). Refusals use the catalog's error bodies (core.api).
"""

from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.urls import path
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, permissions, renderers, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import AUTHENTICATION_CLASSES, RENDERER_CLASSES, KeysetPagination, StrictDjangoFilterBackend
from core.roles import is_curator
from lines.models import QCRecord
from lines.qc import latest_by_test
from stock.actions import StockError
from stock.availability import in_stock_vials_q
from stock.documents import certificate_of_analysis, vial_labels
from stock.models import Location, Lot, LotStatus, LotType, Vial, VialStatus
from stock.receiving import receive_vials

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class CuratorOnly(permissions.BasePermission):
    message = "Only curators handle vials and storage."

    def has_permission(self, request, view):
        return is_curator(request.user)


class PDFRenderer(renderers.BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""


# --- serializers -------------------------------------------------------------------------


class LotQCSerializer(serializers.Serializer):
    test = serializers.CharField()
    method = serializers.CharField()
    result = serializers.CharField()
    tested_on = serializers.DateField(allow_null=True)


class LotSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    line = serializers.CharField(source="line.name")
    code = serializers.CharField()
    accession = serializers.CharField(allow_null=True, help_text="BioSamples accession of the lot (batch).")
    lot_type = serializers.ChoiceField(choices=LotType.choices)
    status = serializers.ChoiceField(choices=LotStatus.choices, help_text="Released only when its QC panel passes.")
    status_reason = serializers.CharField()
    qc_status = serializers.CharField(help_text="The lot's QC panel verdict (lines.qc): passed, failed, incomplete.")
    qc = serializers.SerializerMethodField()
    passage = serializers.IntegerField(allow_null=True)
    frozen_on = serializers.DateField(allow_null=True)
    medium = serializers.CharField()
    matrix = serializers.CharField()
    cryo_medium = serializers.CharField()
    vials_made = serializers.IntegerField(allow_null=True)
    freezing_method = serializers.CharField()
    thaw_recommendation = serializers.CharField()
    vials_in_stock = serializers.IntegerField(help_text="Vials in stock (of a released lot; else 0).")
    coa_sha256 = serializers.CharField(help_text="SHA-256 of an uploaded certificate ('' when none).")
    coa_url = serializers.SerializerMethodField()

    @extend_schema_field(LotQCSerializer(many=True))
    def get_qc(self, lot):
        latest = latest_by_test((r, r.test, r.tested_on) for r in lot.qc_records.all())
        return [
            {"test": r.test, "method": r.method, "result": r.result, "tested_on": r.tested_on}
            for _test, r in sorted(latest.items())
        ]

    def get_coa_url(self, lot) -> str:
        return self.context["request"].build_absolute_uri(f"/api/v1/lots/{lot.pk}/coa/")


class VialSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    name = serializers.CharField()
    line = serializers.CharField(source="lot.line.name")
    lot = serializers.CharField(source="lot.code")
    lot_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=VialStatus.choices)
    box = serializers.CharField(source="location.code", allow_null=True, default=None)
    box_path = serializers.SerializerMethodField()
    position = serializers.CharField(help_text="A1-style well; '' when not stored.")
    updated_at = serializers.DateTimeField()

    def get_box_path(self, vial) -> str | None:
        return vial.location.path() if vial.location_id else None


class ReceiveSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV or XLSX, one row per vial (see the README's Stock section).")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class ReceivedSerializer(serializers.Serializer):
    vials = serializers.IntegerField()
    lots = serializers.ListField(child=serializers.CharField())
    event = serializers.IntegerField()


# --- filters ---------------------------------------------------------------------------------


def _multi(choices, field):
    return filters.MultipleChoiceFilter(field_name=field, choices=choices)


class LotFilter(filters.FilterSet):
    line = extend_schema_field({"type": "string", "maxLength": 40})(
        filters.CharFilter(field_name="line__name", max_length=40, help_text="Line name.")
    )
    status = _multi(LotStatus.choices, "status")
    lot_type = _multi(LotType.choices, "lot_type")
    code = filters.CharFilter(field_name="code", max_length=40, help_text="Lot code, e.g. P001.")

    class Meta:
        model = Lot
        fields = []


class VialFilter(filters.FilterSet):
    line = extend_schema_field({"type": "string", "maxLength": 40})(
        filters.CharFilter(field_name="lot__line__name", max_length=40, help_text="Line name.")
    )
    lot = filters.NumberFilter(field_name="lot_id", help_text="Lot id.", min_value=1)
    status = _multi(VialStatus.choices, "status")
    location = filters.CharFilter(
        method="filter_location", max_length=60, help_text="A location code: vials in it or anywhere below it."
    )
    identifier = filters.CharFilter(field_name="identifier", max_length=40, help_text="Exact vial identifier.")

    class Meta:
        model = Vial
        fields = []

    def filter_location(self, queryset, name, value):
        codes, frontier = {value}, {value}
        # The tree is four levels deep at most: four small queries.
        for _level in range(4):
            frontier = set(Location.objects.filter(parent__code__in=frontier).values_list("code", flat=True))
            codes |= frontier
        return queryset.filter(location__code__in=codes)


# --- views ------------------------------------------------------------------------------------


class StockView:
    authentication_classes = AUTHENTICATION_CLASSES
    renderer_classes = RENDERER_CLASSES


class PDFView(StockView):
    """A PDF on success (an HttpResponse); errors in JSON whatever the client accepts."""

    renderer_classes = [*RENDERER_CLASSES, PDFRenderer]

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    def handle_exception(self, exc):
        # Even for ?format=pdf: an error body is JSON, as the schema documents.
        response = super().handle_exception(exc)
        self.request.accepted_renderer = self.renderer_classes[0]()
        self.request.accepted_media_type = self.request.accepted_renderer.media_type
        return response


def lots_for(user):
    return (
        Lot.objects.visible_to(user)
        .select_related("line")
        .prefetch_related(Prefetch("qc_records", queryset=QCRecord.objects.order_by("id")))
        .annotate(vials_in_stock=Count("vials", filter=in_stock_vials_q("vials__", lot_prefix=""), distinct=True))
    )


@extend_schema(tags=["stock"])
class LotList(StockView, generics.ListAPIView):
    """Lots of the lines you may see, with their QC panel verdict and vials in stock."""

    serializer_class = LotSerializer
    filter_backends = [StrictDjangoFilterBackend]
    filterset_class = LotFilter
    pagination_class = KeysetPagination
    ordering_fields = {"frozen_on": "frozen_on", "code": "code", "id": "pk"}
    default_ordering = ("id",)

    def get_queryset(self):
        return lots_for(self.request.user)


@extend_schema(tags=["stock"])
class LotDetail(StockView, generics.RetrieveAPIView):
    serializer_class = LotSerializer

    def get_queryset(self):
        return lots_for(self.request.user)


@extend_schema(
    tags=["stock"],
    summary="The lot's certificate of analysis (PDF)",
    responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
)
class LotCertificate(PDFView, generics.GenericAPIView):
    def get_queryset(self):
        return Lot.objects.visible_to(self.request.user).select_related("line").prefetch_related("qc_records")

    def get(self, request, pk):
        lot = self.get_object()
        response = HttpResponse(certificate_of_analysis(lot), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{lot.line.name}.{lot.code}.CoA.pdf"'
        return response


@extend_schema(
    tags=["stock"],
    summary="Labels for the lot's vials in the bank (PDF, Code 128)",
    responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
)
class LotLabels(PDFView, generics.GenericAPIView):
    permission_classes = [permissions.IsAuthenticated, CuratorOnly]

    def get_queryset(self):
        return Lot.objects.all()

    def get(self, request, pk):
        lot = self.get_object()
        vials = Vial.objects.filter(lot=lot, location__isnull=False).select_related("lot__line").order_by("id")
        response = HttpResponse(vial_labels(list(vials)), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="labels-{lot.line.name}-{lot.code}.pdf"'
        return response


@extend_schema(tags=["stock"])
class VialList(StockView, generics.ListAPIView):
    """Vials with their status and storage position: curators only (others see an empty list)."""

    serializer_class = VialSerializer
    filter_backends = [StrictDjangoFilterBackend]
    filterset_class = VialFilter
    pagination_class = KeysetPagination
    ordering_fields = {"id": "pk", "identifier": "identifier", "updated_at": "updated_at"}
    default_ordering = ("id",)
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return Vial.objects.visible_to(self.request.user).select_related(
            "lot__line", "location__parent__parent__parent"
        )


@extend_schema(tags=["stock"])
class VialDetail(StockView, generics.RetrieveAPIView):
    serializer_class = VialSerializer
    lookup_field = "identifier"
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return Vial.objects.visible_to(self.request.user).select_related(
            "lot__line", "location__parent__parent__parent"
        )


class ReceiveVials(StockView, APIView):
    parser_classes = [MultiPartParser, FormParser]
    permission_classes = [permissions.IsAuthenticated, CuratorOnly]

    @extend_schema(
        tags=["stock"],
        summary="Receive vials from a CSV or XLSX file",
        description="The whole file or nothing: a 400 lists every row's problem under `rows`.",
        request={"multipart/form-data": ReceiveSerializer},
        responses={201: ReceivedSerializer},
    )
    def post(self, request):
        form = ReceiveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError({"file": ["At most 50 MB."]})
        try:
            report = receive_vials(
                upload.read(), by=request.user, filename=upload.name or "", reason=form.validated_data["reason"]
            )
        except StockError as error:
            raise as_api_error(error) from error
        return Response({"vials": report.vials, "lots": report.lots, "event": report.event_id}, status=201)


def as_api_error(error: StockError) -> ValidationError:
    """A StockError as the catalog's 400 body: each key names a field, with messages."""
    body = {"detail": [error.message]}
    for key, value in (error.problems or {}).items():
        body[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return ValidationError(body)


urlpatterns = [
    path("lots/", LotList.as_view(), name="api-lot-list"),
    path("lots/<int:pk>/", LotDetail.as_view(), name="api-lot-detail"),
    path("lots/<int:pk>/coa/", LotCertificate.as_view(), name="api-lot-coa"),
    path("lots/<int:pk>/labels/", LotLabels.as_view(), name="api-lot-labels"),
    path("vials/", VialList.as_view(), name="api-vial-list"),
    path("vials/receive/", ReceiveVials.as_view(), name="api-vial-receive"),
    path("vials/<str:identifier>/", VialDetail.as_view(), name="api-vial-detail"),
]
