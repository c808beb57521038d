"""/api/v1/submissions/: deposit a document, follow its validation, read and download
its report, and (curators) approve or reject it.

Views only parse and call: intake is lines.submissions.intake.receive_submission,
approval lines.submissions.review.request_approval (a worker writes the lines), rejection
Submission.reject.
Who sees what is Submission.objects.visible_to(user)."""

import csv
import io
import json
from pathlib import PurePath

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import permissions, renderers, serializers, status
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import (
    AUTHENTICATION_CLASSES,
    PAGINATION_PARAMS,
    RENDERER_CLASSES,
    KeysetPagination,
    reject_unknown_params,
)
from core.double_submits import key_of
from core.parsers import JSONParser, load_json
from core.roles import is_curator, is_depositor
from core.spreadsheets import safe_dict
from lines.models import Submission, SubmissionFormat, SubmissionStateError, SubmissionStatus
from lines.submissions.intake import SubmissionRefused, receive_submission
from lines.submissions.pipeline import report_rows
from lines.submissions.review import request_approval

# A submission's answer carries its first findings; the rest are paginated (findings_api).
DETAIL_FINDINGS = 500
REPORT_COLUMNS = ["rule", "severity", "line", "donor", "location", "pointer", "message"]


# --- permissions --------------------------------------------------------------
class DepositorOrCurator(permissions.BasePermission):
    message = "Submissions are for depositors (their institution's) and curators."

    def has_permission(self, request, view):
        return is_depositor(request.user) or is_curator(request.user)


class CuratorOnly(permissions.BasePermission):
    message = "Only curators approve or reject submissions."

    def has_permission(self, request, view):
        return is_curator(request.user)


def _visible_submission(request, pk):
    return get_object_or_404(
        Submission.objects.visible_to(request.user).select_related(
            "institution", "protocol_version", "depositor", "decided_by"
        ),
        pk=pk,
    )


# --- serializers ----------------------------------------------------------------
class SubmissionFindingSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="Rule id from the protocol (SCHEMA, REF-1 … STR-4).")
    severity = serializers.ChoiceField(choices=["error", "warning"])
    location = serializers.JSONField(
        help_text='JSON pointer into the document; for CSV/XLSX uploads the place to edit, e.g. "sheet lines, row 3, column culture.passage_at_banking".'
    )
    pointer = serializers.CharField(required=False, help_text="The JSON pointer, kept for CSV/XLSX uploads.")
    message = serializers.CharField()
    line = serializers.CharField(allow_null=True, required=False, help_text="The line's local_id.")
    donor = serializers.CharField(allow_null=True, required=False, help_text="The donor's local_id.")
    at_approval = serializers.BooleanField(
        required=False,
        help_text="True for a finding of the approval's re-check (the catalog changed since validation).",
    )
    omitted = serializers.IntegerField(
        required=False,
        help_text="On the last finding of a rule whose findings were capped: how many more were found "
        "and not stored (settings.SUBMISSION_MAX_FINDINGS_PER_RULE).",
    )


class SubmissionProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text="Lines checked so far.")
    total = serializers.IntegerField(help_text="Lines in the document.")
    percent = serializers.IntegerField()


class SubmissionSerializer(serializers.ModelSerializer):
    protocol = serializers.CharField(source="protocol_version.identifier")
    institution = serializers.CharField(source="institution.code")
    depositor = serializers.CharField(source="depositor.username")
    decided_by = serializers.CharField(source="decided_by.username", default=None, allow_null=True)
    progress = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    report_urls = serializers.SerializerMethodField()

    class Meta:
        model = Submission
        fields = [
            "id",
            "url",
            "status",
            "protocol",
            "format",
            "original_filename",
            "institution",
            "depositor",
            "progress",
            "error_count",
            "warning_count",
            "attempts",
            "created_at",
            "updated_at",
            "validation_started_at",
            "validated_at",
            "decided_by",
            "decided_at",
            "decision_reason",
            "report_urls",
        ]
        read_only_fields = fields

    @extend_schema_field(SubmissionProgressSerializer)
    def get_progress(self, obj) -> dict:
        return {
            "done": obj.progress_done,
            "total": obj.progress_total,
            "percent": obj.progress_percent,
        }

    def get_url(self, obj) -> str:
        return self._absolute(reverse("api-submission-detail", args=[obj.pk]))

    def get_report_urls(self, obj) -> dict:
        return {
            fmt: self._absolute(reverse("api-submission-report-suffix", args=[obj.pk, fmt])) for fmt in ("json", "csv")
        }

    def _absolute(self, url):
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class SubmissionDetailSerializer(SubmissionSerializer):
    findings = serializers.SerializerMethodField(
        help_text=f"The first {DETAIL_FINDINGS} findings; every one, a page at a time, at `findings_url`."
    )
    findings_total = serializers.SerializerMethodField(help_text="Findings stored in the report.")
    findings_url = serializers.SerializerMethodField(help_text="The findings, paginated.")
    lines = serializers.SerializerMethodField(help_text="Names of the lines an approval created.")

    class Meta(SubmissionSerializer.Meta):
        fields = [*SubmissionSerializer.Meta.fields, "findings", "findings_total", "findings_url", "lines"]
        read_only_fields = fields

    @extend_schema_field(SubmissionFindingSerializer(many=True))
    def get_findings(self, obj) -> list:
        return obj.findings[:DETAIL_FINDINGS]

    def get_findings_total(self, obj) -> int:
        return len(obj.findings)

    def get_findings_url(self, obj) -> str:
        return self._absolute(reverse("api-submission-findings", args=[obj.pk]))

    def get_lines(self, obj) -> list[str]:
        return list(obj.lines.order_by("name").values_list("name", flat=True))


class SubmissionUploadSerializer(serializers.Serializer):
    """The multipart form: a file plus how to read it."""

    file = serializers.FileField(help_text="The document: .json, a .zip of CSV files, or an .xlsx workbook.")
    format = serializers.ChoiceField(
        choices=SubmissionFormat.choices,
        required=False,
        help_text="json, csv (zip of CSVs) or xlsx; taken from the file name when omitted.",
    )
    protocol = serializers.CharField(
        required=False,
        help_text='Protocol version, e.g. "prism-line-submission/1"; must agree with the document\'s own.',
    )


class SubmissionRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, help_text="Why, in words the depositor can act on. Required.")


class SubmissionErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class SubmissionConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    status = serializers.CharField(help_text="The submission's status now.")
    findings = SubmissionFindingSerializer(many=True, required=False)


ACCEPTED = inline_serializer(
    "SubmissionAccepted",
    {
        "id": serializers.IntegerField(),
        "status": serializers.CharField(),
        "url": serializers.URLField(),
        "progress": SubmissionProgressSerializer(),
    },
)

EXAMPLE_DOCUMENT = {
    "protocol": "prism-line-submission/1",
    "donors": [
        {
            "local_id": "D1",
            "sex": "female",
            "age_at_sampling": 54,
            "disease": "MONDO:0004976",
            "consent": {
                "codes": ["DUO:0000042"],
                "genetic_data": "controlled",
                "obtained_on": "2025-01-10",
            },
        }
    ],
    "lines": [
        {
            "local_id": "L1",
            "donor": "D1",
            "name": None,
            "modification": {"type": "none"},
            "reprogramming": {"method": "sendai"},
            "qc": [{"test": "mycoplasma", "result": "pass"}],
        }
    ],
}


def _format_from_name(name):
    suffix = PurePath(name or "").suffix.lower()
    return {".json": "json", ".zip": "csv", ".csv": "csv", ".xlsx": "xlsx"}.get(suffix)


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, (bytes, str)):
            return data
        # Errors (404 …) still come back readable.
        return json.dumps(data).encode()


# --- views ------------------------------------------------------------------
class SubmissionView(APIView):
    """The catalog's API conventions (core.api): token first (401 for a missing or
    bad token), orjson rendering, depositors and curators only."""

    authentication_classes = AUTHENTICATION_CLASSES
    renderer_classes = RENDERER_CLASSES
    permission_classes = [permissions.IsAuthenticated, DepositorOrCurator]


class SubmissionListCreate(SubmissionView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    pagination_class = KeysetPagination
    ordering_fields = {"created_at": "created_at", "updated_at": "updated_at", "status": "status"}
    default_ordering = ("-created_at",)

    @extend_schema(
        operation_id="submissions_list",
        summary="List submissions",
        description="Depositors see their institution's submissions, curators all. Newest first.",
        parameters=[
            OpenApiParameter("status", str, enum=SubmissionStatus.values, description="Only this status."),
            OpenApiParameter("cursor", str, description="Opaque position from a `next` or `previous` link."),
            OpenApiParameter("page_size", int, description="Items per page, 1 to 500 (default 50)."),
            OpenApiParameter(
                "ordering",
                str,
                description="created_at, updated_at or status; `-` to reverse. Default: -created_at.",
            ),
        ],
        responses={
            200: inline_serializer(
                "SubmissionPage",
                {
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": SubmissionSerializer(many=True),
                },
            ),
            # 400 (unknown parameter or status, bad cursor) and 401/403 follow the
            # catalog's standard error bodies (core.api.STANDARD_ERRORS).
        },
    )
    def get(self, request):
        reject_unknown_params(request, {"status"} | PAGINATION_PARAMS)
        queryset = Submission.objects.visible_to(request.user).select_related(
            "institution", "protocol_version", "depositor", "decided_by"
        )
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in SubmissionStatus.values:
                return Response(
                    {"status": [f"Unknown status {wanted!r}: use one of {', '.join(SubmissionStatus.values)}."]},
                    status=400,
                )
            queryset = queryset.filter(status=wanted)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(
            SubmissionSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        operation_id="submissions_create",
        summary="Deposit a document",
        description=(
            "Saves the document and answers 202 at once; a worker validates it and `status` moves "
            "received → validating → valid | invalid. Send either the JSON document as the body "
            "(`Content-Type: application/json`; the protocol comes from its `protocol` field or a "
            "`?protocol=` parameter) or a multipart upload with `file`, `format` (json, csv = zip of "
            "CSV files, xlsx) and optionally `protocol`. At most 10,000 lines per submission."
        ),
        parameters=[
            OpenApiParameter(
                "protocol",
                str,
                description="Protocol version when the document does not name it.",
            )
        ],
        request={
            "application/json": OpenApiTypes.OBJECT,
            "multipart/form-data": SubmissionUploadSerializer,
        },
        examples=[OpenApiExample("JSON document", value=EXAMPLE_DOCUMENT, request_only=True)],
        responses={
            202: ACCEPTED,
            400: OpenApiResponse(
                SubmissionErrorSerializer,
                description="Unreadable body, unknown protocol or format.",
            ),
            403: OpenApiResponse(SubmissionErrorSerializer, description="Not a depositor with an institution."),
            413: OpenApiResponse(SubmissionErrorSerializer, description="More than 10,000 lines."),
        },
    )
    def post(self, request):
        protocol = request.query_params.get("protocol") or None
        if request.content_type.startswith("application/json"):
            content = request.body
            try:
                load_json(content)
            except ValueError as exc:
                raise ParseError(f"The body is not valid JSON: {exc}") from exc
            fmt, filename = SubmissionFormat.JSON, ""
        else:
            upload = request.FILES.get("file") or request.FILES.get("document")
            if upload is None:
                return Response(
                    {
                        "detail": "Send the document as JSON, or as a multipart upload in a 'file' field.",
                        "file": ["No file was submitted."],
                    },
                    status=400,
                )
            fmt = request.data.get("format") or _format_from_name(upload.name)
            if not fmt:
                return Response(
                    {
                        "detail": "Say which format the file is in (format=json, csv or xlsx); "
                        f"it cannot be told from the name {upload.name!r}.",
                        "format": ["Required for this file name."],
                    },
                    status=400,
                )
            protocol = request.data.get("protocol") or protocol
            content, filename = upload.read(), upload.name
        try:
            submission = receive_submission(
                user=request.user,
                content=content,
                fmt=fmt,
                filename=filename,
                protocol=protocol,
                idempotency_key=key_of(request),
            )
        except SubmissionRefused as refused:
            body = {"detail": refused.message}
            if refused.field:
                body[refused.field] = [refused.message]
            return Response(body, status=refused.status)
        url = request.build_absolute_uri(reverse("api-submission-detail", args=[submission.pk]))
        return Response(
            {
                "id": submission.pk,
                "status": submission.status,
                "url": url,
                "progress": {
                    "done": submission.progress_done,
                    "total": submission.progress_total,
                    "percent": submission.progress_percent,
                },
            },
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": url},
        )


class SubmissionDetail(SubmissionView):
    @extend_schema(
        operation_id="submissions_retrieve",
        summary="A submission: status, progress and findings",
        responses={
            200: SubmissionDetailSerializer,
            403: SubmissionErrorSerializer,
            404: SubmissionErrorSerializer,
        },
    )
    def get(self, request, pk):
        submission = _visible_submission(request, pk)
        return Response(SubmissionDetailSerializer(submission, context={"request": request}).data)


class SubmissionReport(SubmissionView):
    """The findings as a file: JSON (the list) or CSV (one row per finding)."""

    renderer_classes = [RENDERER_CLASSES[0], CSVRenderer]

    @extend_schema(
        operation_id="submissions_report",
        summary="Download a submission's report",
        description="`report.json` / `report.csv`, or `report/?format=json|csv`.",
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"])],
        responses={
            (200, "application/json"): SubmissionFindingSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
            403: SubmissionErrorSerializer,
            404: SubmissionErrorSerializer,
        },
    )
    def get(self, request, pk, format=None):  # noqa: A002 — DRF's name for the suffix
        submission = _visible_submission(request, pk)
        fmt = format or request.query_params.get("format") or "json"
        filename = f"submission-{submission.pk}-report.{fmt}"
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=REPORT_COLUMNS)
            writer.writeheader()
            writer.writerows(safe_dict(row) for row in report_rows(submission))
            return Response(
                buffer.getvalue().encode("utf-8"),
                content_type="text/csv; charset=utf-8",
                headers=headers,
            )
        if fmt != "json":
            raise NotFound(f"No report format {fmt!r}: use json or csv.")
        return Response(submission.findings, headers=headers)


def _conflict(submission, message, findings=None):
    body = {"detail": message, "status": submission.status}
    if findings is not None:
        body["findings"] = findings
    return Response(body, status=status.HTTP_409_CONFLICT)


class SubmissionApprove(SubmissionView):
    permission_classes = [permissions.IsAuthenticated, CuratorOnly]

    @extend_schema(
        operation_id="submissions_approve",
        summary="Approve a valid submission (curators)",
        description=(
            "Records the curator's decision (`decided_by`, `decided_at`), sets the status to "
            "`approving` and answers 202 at once, with the submission's URL in `url` and the "
            "`Location` header; poll it. A worker then writes its donors, consent, variants, lines "
            "and QC in one transaction, assigns names left empty, releases the lines and sets "
            "`approved` (`lines` lists them). Only a `valid` submission may be approved (409 "
            "otherwise, also while an approval is in progress). If the catalog changed since "
            "validation (a name taken meanwhile, the same document already approved), nothing is "
            "written and the submission becomes `invalid` with findings saying why (`at_approval`: "
            "true); when that is known before the answer (a server without a worker queue), the "
            "answer is 409 with those findings."
        ),
        request=None,
        responses={
            202: SubmissionDetailSerializer,
            403: SubmissionErrorSerializer,
            404: SubmissionErrorSerializer,
            409: SubmissionConflictSerializer,
        },
    )
    def post(self, request, pk):
        submission = _visible_submission(request, pk)
        try:
            request_approval(submission, by=request.user)
        except SubmissionStateError as exc:
            submission.refresh_from_db()
            return _conflict(submission, str(exc))
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        if submission.status == SubmissionStatus.INVALID:
            # Approved in this process (no broker) and the re-check found a conflict.
            findings = [f for f in submission.findings if f.get("at_approval")]
            return _conflict(
                submission,
                "The catalog changed since this submission was validated; nothing was written and "
                "the submission is now invalid: " + "; ".join(f["message"] for f in findings),
                findings,
            )
        data = SubmissionDetailSerializer(submission, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


class SubmissionReject(SubmissionView):
    permission_classes = [permissions.IsAuthenticated, CuratorOnly]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        operation_id="submissions_reject",
        summary="Reject a submission with a reason (curators)",
        description="The document and report are kept; the depositor can send a corrected one.",
        request=SubmissionRejectSerializer,
        responses={
            200: SubmissionDetailSerializer,
            400: SubmissionErrorSerializer,
            403: SubmissionErrorSerializer,
            404: SubmissionErrorSerializer,
            409: SubmissionConflictSerializer,
        },
    )
    def post(self, request, pk):
        submission = _visible_submission(request, pk)
        form = SubmissionRejectSerializer(data=request.data)
        if not form.is_valid():
            return Response(
                {"detail": "A rejection needs a reason the depositor can act on.", **form.errors},
                status=400,
            )
        try:
            submission.reject(by=request.user, reason=form.validated_data["reason"])
        except SubmissionStateError as exc:
            return _conflict(submission, str(exc))
        return Response(SubmissionDetailSerializer(submission, context={"request": request}).data)


urlpatterns = [
    path("submissions/", SubmissionListCreate.as_view(), name="api-submission-list"),
    path("submissions/<int:pk>/", SubmissionDetail.as_view(), name="api-submission-detail"),
    path("submissions/<int:pk>/report/", SubmissionReport.as_view(), name="api-submission-report"),
    path(
        "submissions/<int:pk>/report.<str:format>",
        SubmissionReport.as_view(),
        name="api-submission-report-suffix",
    ),
    path("submissions/<int:pk>/approve/", SubmissionApprove.as_view(), name="api-submission-approve"),
    path("submissions/<int:pk>/reject/", SubmissionReject.as_view(), name="api-submission-reject"),
]
