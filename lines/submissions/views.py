"""Submission pages: a depositor uploads, watches validation and reads the report; a
curator works a review queue and approves or rejects. Mounted at /submissions/.

Views fetch through Submission.objects.visible_to(user) and call the same
functions as the API (receive_submission, request_approval, Submission.reject)."""

import json
from collections import OrderedDict

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.double_submits import key_of, new_key
from core.parsers import load_json
from core.permissions import curator_required, require_curator
from core.roles import is_curator, is_depositor
from lines.models import (
    ProtocolVersion,
    Submission,
    SubmissionFormat,
    SubmissionStateError,
    SubmissionStatus,
)
from lines.submissions import formats as submission_formats
from lines.submissions.documents import load_document
from lines.submissions.intake import SubmissionRefused, receive_submission
from lines.submissions.review import request_approval

# The review page shows the document's first rows; the full document is a download.
REVIEW_ROWS = 200
FINDINGS_PER_PAGE = 200
RUNNING = (SubmissionStatus.RECEIVED, SubmissionStatus.VALIDATING, SubmissionStatus.APPROVING)


def _require_depositor_or_curator(user):
    if not (is_depositor(user) or is_curator(user)):
        raise PermissionDenied("Submissions are for depositors and curators.")


def _visible(request, pk):
    _require_depositor_or_curator(request.user)
    return get_object_or_404(
        Submission.objects.visible_to(request.user).select_related(
            "institution", "protocol_version", "depositor", "decided_by"
        ),
        pk=pk,
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        required=False,
        help_text="A filled-in template: .xlsx workbook, .zip of CSV files, or a .json document.",
    )
    pasted = forms.CharField(
        label="…or paste the JSON document",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
    )
    format = forms.ChoiceField(
        choices=[("", "Tell from the file name"), *SubmissionFormat.choices],
        required=False,
    )
    protocol = forms.ModelChoiceField(
        queryset=ProtocolVersion.objects.all(),
        to_field_name="identifier",
        empty_label=None,
        help_text="The protocol version your document follows.",
    )

    def clean(self):
        data = super().clean()
        if not data.get("file") and not (data.get("pasted") or "").strip():
            raise forms.ValidationError("Choose a file or paste a JSON document.")
        if data.get("file") and (data.get("pasted") or "").strip():
            raise forms.ValidationError("Send either a file or pasted JSON, not both.")
        if data.get("pasted"):
            try:
                load_json(data["pasted"])
            except ValueError as exc:
                self.add_error("pasted", f"This is not valid JSON: {exc}")
        return data


def _format_of(upload, chosen):
    if chosen:
        return chosen
    name = upload.name.lower()
    for suffix, fmt in ((".json", "json"), (".zip", "csv"), (".csv", "csv"), (".xlsx", "xlsx")):
        if name.endswith(suffix):
            return fmt
    return None


@login_required
def upload(request):
    if not is_depositor(request.user):
        raise PermissionDenied("Only depositors submit lines.")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data.get("file"):
            fmt = _format_of(data["file"], data.get("format"))
            content, filename = data["file"].read(), data["file"].name
        else:
            fmt, content, filename = SubmissionFormat.JSON, data["pasted"].encode("utf-8"), ""
        if not fmt:
            form.add_error("format", "Say which format the file is in; it cannot be told from its name.")
        else:
            try:
                submission = receive_submission(
                    user=request.user,
                    content=content,
                    fmt=fmt,
                    filename=filename,
                    protocol=data["protocol"].identifier,
                    idempotency_key=key_of(request),
                )
            except SubmissionRefused as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, f"Submission {submission.pk} received; it is being validated.")
                return redirect("submission-detail", pk=submission.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "submissions/upload.html",
        {
            "form": form,
            "protocols": ProtocolVersion.objects.all(),
            "idempotency_key": new_key(),
            "template_formats": [
                ("xlsx", "XLSX workbook"),
                ("csv", "CSV files (zip)"),
                ("json", "JSON example"),
            ],
        },
        status=status,
    )


@require_GET
def blank_template(request, fmt):
    """The blank template of the newest (or ?protocol=) version, as a download. Public:
    a lab can look at what it would have to fill in before it has an account."""
    builders = {
        "xlsx": (
            "blank_xlsx_template",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        "csv": ("blank_csv_template", "application/zip", "zip"),
        "json": ("example_json_document", "application/json", "json"),
    }
    if fmt not in builders:
        return HttpResponse(
            f"No template format {fmt!r}: use xlsx, csv or json.",
            status=404,
            content_type="text/plain",
        )
    builder, content_type, extension = builders[fmt]
    content = getattr(submission_formats, builder)()
    if isinstance(content, (dict, list)):
        content = json.dumps(content, indent=2, ensure_ascii=False)
    if isinstance(content, str):
        content = content.encode("utf-8")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="prism-submission-template.{extension}"'
    return response


@login_required
def my_submissions(request):
    _require_depositor_or_curator(request.user)
    submissions = Submission.objects.visible_to(request.user).select_related(
        "institution", "protocol_version", "depositor"
    )
    status = request.GET.get("status")
    if status in SubmissionStatus.values:
        submissions = submissions.filter(status=status)
    return render(
        request,
        "submissions/list.html",
        {
            "submissions": submissions[:200],
            "statuses": SubmissionStatus.choices,
            "status": status,
        },
    )


@curator_required(message="The review queue is for curators.")
def review_queue(request):
    waiting = (
        Submission.objects.visible_to(request.user)
        .filter(
            status__in=[
                SubmissionStatus.RECEIVED,
                SubmissionStatus.VALIDATING,
                SubmissionStatus.VALID,
                SubmissionStatus.APPROVING,
                SubmissionStatus.INVALID,
            ]
        )
        .select_related("institution", "depositor", "protocol_version")
        .order_by("created_at")
    )
    groups = OrderedDict(
        (s, [])
        for s in (
            SubmissionStatus.VALID,
            SubmissionStatus.APPROVING,
            SubmissionStatus.RECEIVED,
            SubmissionStatus.VALIDATING,
            SubmissionStatus.INVALID,
        )
    )
    for submission in waiting[:500]:
        groups[submission.status].append(submission)
    return render(
        request,
        "submissions/queue.html",
        {
            "groups": [(SubmissionStatus(status).label, status, items) for status, items in groups.items()],
            "now": timezone.now(),
        },
    )


def _group_findings(findings):
    """Findings grouped for reading: document-wide first, then per donor, then per line."""
    groups = OrderedDict()
    for finding in findings:
        if finding.get("line"):
            key = ("line", finding["line"])
        elif finding.get("donor"):
            key = ("donor", finding["donor"])
        else:
            key = ("document", "")
        groups.setdefault(key, []).append(finding)
    order = {"document": 0, "donor": 1, "line": 2}
    ordered = sorted(groups.items(), key=lambda item: (order[item[0][0]], str(item[0][1])))
    return [
        {
            "kind": kind,
            "label": label,
            "findings": items,
            "errors": sum(1 for f in items if f.get("severity") == "error"),
            "warnings": sum(1 for f in items if f.get("severity") == "warning"),
        }
        for (kind, label), items in ordered
    ]


def _readable_location(location):
    if isinstance(location, dict):
        return ", ".join(f"{k} {v}" for k, v in location.items() if v not in (None, ""))
    return location or "—"


def _document_tables(submission):
    """Donors, lines and QC of the stored document as rows for the review page."""
    try:
        document = load_document(submission)
    except Exception as exc:  # noqa: BLE001 — an unreadable document is shown as such, with its report
        return {"error": str(exc)}
    if not isinstance(document, dict):
        return {"error": "The document is not a JSON object."}
    donors = [d for d in document.get("donors") or [] if isinstance(d, dict)]
    lines = [line for line in document.get("lines") or [] if isinstance(line, dict)]
    qc_rows = []
    for line in lines[:REVIEW_ROWS]:
        for qc in line.get("qc") or []:
            if isinstance(qc, dict):
                qc_rows.append({"line": line.get("local_id"), **qc})
    return {
        "donors": donors[:REVIEW_ROWS],
        "donor_count": len(donors),
        "lines": lines[:REVIEW_ROWS],
        "line_count": len(lines),
        "qc": qc_rows,
        "truncated": len(lines) > REVIEW_ROWS or len(donors) > REVIEW_ROWS,
    }


@login_required
def detail(request, pk):
    submission = _visible(request, pk)
    # A page of findings at a time: a report may hold tens of thousands (capped per rule).
    page = Paginator(submission.findings, FINDINGS_PER_PAGE).get_page(request.GET.get("findings_page"))
    findings = [{**f, "where": _readable_location(f.get("location"))} for f in page.object_list]
    context = {
        "submission": submission,
        "running": submission.status in RUNNING,
        "groups": _group_findings(findings),
        "findings_page": page,
        "can_decide": is_curator(request.user),
        "can_approve": is_curator(request.user) and submission.status == SubmissionStatus.VALID,
        "can_reject": is_curator(request.user) and submission.status in Submission.REJECTABLE,
        "lines": submission.lines.order_by("name") if submission.status == SubmissionStatus.APPROVED else [],
        "document": _document_tables(submission),
    }
    return render(request, "submissions/detail.html", context)


@login_required
def progress(request, pk):
    """The progress fragment htmx polls; once the run is over, the whole page reloads
    to show the report."""
    submission = _visible(request, pk)
    response = render(
        request,
        "submissions/_progress.html",
        {
            "submission": submission,
            "running": submission.status in RUNNING,
        },
    )
    if request.htmx and submission.status not in RUNNING:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def approve(request, pk):
    submission = _visible(request, pk)
    require_curator(request.user, "Only curators approve submissions.")
    try:
        request_approval(submission, by=request.user)
    except SubmissionStateError as exc:
        messages.error(request, str(exc))
        return redirect("submission-detail", pk=pk)
    if submission.status == SubmissionStatus.APPROVED:
        # No worker queue (eager mode): the lines were written before this answer.
        messages.success(request, f"Submission {pk} approved: {submission.lines.count()} line(s) released.")
    elif submission.status == SubmissionStatus.INVALID:
        conflicts = "; ".join(f["message"] for f in submission.findings if f.get("at_approval"))
        messages.error(request, f"Not approved; the submission is now invalid: {conflicts}")
    else:
        messages.success(
            request,
            f"Submission {pk}: approval in progress. Its lines are written in the background; "
            "this page shows when they are released.",
        )
    return redirect("submission-detail", pk=pk)


@login_required
@require_POST
def reject(request, pk):
    submission = _visible(request, pk)
    require_curator(request.user, "Only curators reject submissions.")
    reason = (request.POST.get("reason") or "").strip()
    if not reason:
        messages.error(request, "Give a reason for the rejection: the depositor reads it.")
        return redirect(reverse("submission-detail", args=[pk]) + "#decide")
    try:
        submission.reject(by=request.user, reason=reason)
    except SubmissionStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Submission {pk} rejected.")
    return redirect("submission-detail", pk=pk)


urlpatterns = [
    path("", my_submissions, name="submission-list"),
    path("new/", upload, name="submission-upload"),
    path("template.<str:fmt>", blank_template, name="submission-template"),
    path("review/", review_queue, name="submission-queue"),
    path("<int:pk>/", detail, name="submission-detail"),
    path("<int:pk>/progress/", progress, name="submission-progress"),
    path("<int:pk>/approve/", approve, name="submission-approve"),
    path("<int:pk>/reject/", reject, name="submission-reject"),
]
