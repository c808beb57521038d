"""/api/v1/protocol/: the submission protocol's versions, each version's JSON Schema,
rules and thresholds, and its blank templates. Read-only and public: the standard
a deposit is judged by is no secret, and a lab reads it before it has an account."""

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from lines.models import ProtocolVersion
from lines.submissions import formats as submission_formats
from lines.submissions.protocol import RULES


class RuleSerializer(serializers.Serializer):
    id = serializers.CharField()
    severity = serializers.ChoiceField(choices=["error", "warning"])
    rule = serializers.CharField()
    example = serializers.CharField(help_text="What breaks the rule.")


class ProtocolVersionSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    schema_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = ProtocolVersion
        fields = ["number", "identifier", "published_on", "notes", "url", "schema_url", "page_url"]

    def _absolute(self, name, number):
        url = reverse(name, kwargs={"number": number})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_url(self, obj) -> str:
        return self._absolute("api-protocol-detail", obj.number)

    def get_schema_url(self, obj) -> str:
        return self._absolute("api-protocol-schema", obj.number)

    def get_page_url(self, obj) -> str:
        return self._absolute("protocol-page", obj.number)


class ProtocolVersionDetailSerializer(ProtocolVersionSerializer):
    settings = serializers.JSONField(help_text="The thresholds this version's rules read.")
    rules = serializers.SerializerMethodField()

    class Meta(ProtocolVersionSerializer.Meta):
        fields = [*ProtocolVersionSerializer.Meta.fields, "settings", "rules"]

    @extend_schema(responses=RuleSerializer(many=True))
    def get_rules(self, obj) -> list:
        return [{"id": i, "severity": s, "rule": r, "example": e} for i, s, r, e in RULES]


class ProtocolVersionList(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=ProtocolVersionSerializer(many=True), summary="Protocol versions")
    def get(self, request):
        versions = ProtocolVersion.objects.order_by("number")
        return Response(ProtocolVersionSerializer(versions, many=True, context={"request": request}).data)


class ProtocolVersionDetail(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses=ProtocolVersionDetailSerializer,
        summary="A protocol version: rules and thresholds",
    )
    def get(self, request, number):
        version = get_object_or_404(ProtocolVersion, number=number)
        return Response(ProtocolVersionDetailSerializer(version, context={"request": request}).data)


class ProtocolSchema(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses={(200, "application/schema+json"): OpenApiTypes.OBJECT},
        summary="The JSON Schema (draft 2020-12) of a protocol version",
    )
    def get(self, request, number):
        version = get_object_or_404(ProtocolVersion, number=number)
        response = JsonResponse(version.schema, json_dumps_params={"indent": 2, "ensure_ascii": False})
        response["Content-Type"] = "application/schema+json"
        return response


_TEMPLATES = {
    "xlsx": (
        submission_formats.blank_xlsx_template,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "template.xlsx",
    ),
    "zip": (submission_formats.blank_csv_template, "application/zip", "template-csv.zip"),
}


class ProtocolTemplate(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        summary="Blank submission template (xlsx workbook or zip of CSV files)",
    )
    def get(self, request, number, fmt):
        get_object_or_404(ProtocolVersion, number=number)
        if fmt == "json":
            response = JsonResponse(
                submission_formats.example_json_document(),
                json_dumps_params={"indent": 2, "ensure_ascii": False},
            )
            response["Content-Disposition"] = f'attachment; filename="prism-protocol-{number}-example.json"'
            return response
        if fmt not in _TEMPLATES:
            return JsonResponse(
                {"detail": f"No template {fmt!r}: use template.xlsx, template.zip or example.json."},
                status=404,
            )
        builder, content_type, filename = _TEMPLATES[fmt]
        response = HttpResponse(builder(), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="prism-protocol-{number}-{filename}"'
        return response


urlpatterns = [
    path("protocol/", ProtocolVersionList.as_view(), name="api-protocol-list"),
    path("protocol/<int:number>/", ProtocolVersionDetail.as_view(), name="api-protocol-detail"),
    path("protocol/<int:number>/schema.json", ProtocolSchema.as_view(), name="api-protocol-schema"),
    path(
        "protocol/<int:number>/template.<str:fmt>",
        ProtocolTemplate.as_view(),
        name="api-protocol-template",
    ),
    path(
        "protocol/<int:number>/example.<str:fmt>",
        ProtocolTemplate.as_view(),
        name="api-protocol-example",
    ),
]
