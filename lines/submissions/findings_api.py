"""/api/v1/submissions/{id}/findings/: a submission's findings, a page at a time.

A report may hold tens of thousands of findings (settings.SUBMISSION_MAX_FINDINGS_PER_RULE
of each rule); the submission's own answer carries only the first ones. The stored
list only ever grows at its end (approval's re-check appends), so a cursor is a
position in it: pages never repeat or skip a finding."""

import base64
import binascii

from django.urls import path, reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from core.api import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, bad_parameter, reject_unknown_params
from lines.submissions.api import (
    SubmissionErrorSerializer,
    SubmissionFindingSerializer,
    SubmissionView,
    _visible_submission,
)

FINDINGS_PAGE = inline_serializer(
    "SubmissionFindingsPage",
    {
        "count": serializers.IntegerField(help_text="Findings in the report."),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": SubmissionFindingSerializer(many=True),
    },
)


def _page_size(request):
    raw = request.query_params.get("page_size") or str(DEFAULT_PAGE_SIZE)
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise bad_parameter("page_size", f"Must be a whole number between 1 and {MAX_PAGE_SIZE}; got {raw!r}.")
    return int(raw)


def _offset(request):
    raw = request.query_params.get("cursor")
    if not raw:
        return 0
    try:
        text = base64.urlsafe_b64decode(raw.encode("ascii") + b"=" * (-len(raw) % 4)).decode("ascii")
        if not text.startswith("o") or not text[1:].isdigit():
            raise ValueError
    except (ValueError, UnicodeError, binascii.Error):
        raise bad_parameter("cursor", "Invalid cursor: use the next/previous links as given.") from None
    return int(text[1:])


def _cursor_url(request, pk, offset, size):
    cursor = base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")
    url = reverse("api-submission-findings", args=[pk])
    return request.build_absolute_uri(f"{url}?cursor={cursor}&page_size={size}")


class SubmissionFindings(SubmissionView):
    @extend_schema(
        operation_id="submissions_findings",
        summary="A submission's findings, a page at a time",
        parameters=[
            OpenApiParameter(
                "cursor", {"type": "string", "maxLength": 100}, description="From the next/previous links."
            ),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                description=f"1–{MAX_PAGE_SIZE}, default {DEFAULT_PAGE_SIZE}.",
            ),
        ],
        responses={200: FINDINGS_PAGE, 403: SubmissionErrorSerializer, 404: SubmissionErrorSerializer},
    )
    def get(self, request, pk):
        reject_unknown_params(request, {"cursor", "page_size"})
        submission = _visible_submission(request, pk)
        size, offset = _page_size(request), _offset(request)
        findings = submission.findings
        return Response(
            {
                "count": len(findings),
                "next": _cursor_url(request, pk, offset + size, size) if offset + size < len(findings) else None,
                "previous": _cursor_url(request, pk, max(offset - size, 0), size) if offset > 0 else None,
                "results": findings[offset : offset + size],
            }
        )


urlpatterns = [
    path("submissions/<int:pk>/findings/", SubmissionFindings.as_view(), name="api-submission-findings"),
]
