"""Pages that are not one app's: home (what the bank holds), the API token page and
the curator dashboard."""

from datetime import timedelta
from urllib.parse import urlencode

import numpy as np
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Min, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from core.catalog_version import cached
from core.roles import is_curator
from distribution.models import DistributionRequest, RequestStatus
from lines.holdings.facet_index import catalog_figures, facet_counts, released_qc_figures
from lines.holdings.filters import CellLineFilter
from lines.holdings.representation import QC_LABELS
from lines.holdings.views.catalog import visibility_key
from lines.models import (
    CellLine,
    CurationStatus,
    QCRecord,
    QCResult,
    QCStatus,
    Submission,
    SubmissionStatus,
)
from lines.qc import CORE_TESTS, needs_vector_clearance_q

# Age at onset bands for the home chart (years); healthy controls have none.
ONSET_BANDS = (
    (0, 39, "under 40"),
    (40, 49, "40–49"),
    (50, 59, "50–59"),
    (60, 69, "60–69"),
    (70, 200, "70 and over"),
)
CHART_ROWS = 12


def _chart(values, param=None, limit=CHART_ROWS):
    """Rows for a bar chart: label, count, bar width (% of the largest) and, when the
    value is a catalog filter, the catalog link that lists those lines."""
    values = [v for v in values if v["count"]][:limit]
    top = max((v["count"] for v in values), default=0) or 1
    rows = []
    for v in values:
        url = None
        if param and v.get("value") is not None:
            url = f"{reverse('catalog')}?{urlencode({param: v['value']})}"
        rows.append(
            {
                "label": v["label"],
                "count": v["count"],
                "width": round(100 * v["count"] / top, 1),
                "url": url,
            }
        )
    return rows


def _home_figures(lines, request):
    # The catalog's facet counts with no filter: the home figures match /lines/.
    facets = facet_counts(CellLineFilter({}, queryset=lines, request=request)).facets
    figures = catalog_figures(lines.visible_scope)
    if figures is None:
        stats = lines.aggregate(
            lines=Count("pk"),
            donors=Count("donor", distinct=True),
            institutions=Count("institution", distinct=True),
            **{
                f"onset_{low}": Count("pk", filter=Q(donor__age_at_onset__gte=low, donor__age_at_onset__lte=high))
                for low, high, _ in ONSET_BANDS
            },
            onset_unrecorded=Count("pk", filter=Q(donor__age_at_onset__isnull=True)),
        )
    else:
        onset = figures.pop("onset")
        stats = {
            **figures,
            **{f"onset_{low}": int(((onset >= low) & (onset <= high)).sum()) for low, high, _ in ONSET_BANDS},
            "onset_unrecorded": int(np.isnan(onset).sum()),
        }
    onset = {key.removeprefix("onset_"): value for key, value in stats.items() if key.startswith("onset_")}
    stats["genes"] = len(facets["gene"])
    return stats, onset, facets


def home(request):
    lines = CellLine.objects.visible_to(request.user)
    # Figures and charts: two queries (one aggregate, every facet at once), in the
    # shared cache per visibility and catalog version, like the catalog's counts.
    stats, onset, facets = cached("home-figures", visibility_key(request.user), lambda: _home_figures(lines, request))
    onset_values = [{"label": label, "count": onset[str(low)], "value": None} for low, _, label in ONSET_BANDS]
    recent = (
        lines.filter(released_at__isnull=False)
        .select_related("donor")
        .only("name", "released_at", "donor__disease_label", "donor__sex", "donor__age_at_sampling")
        .order_by("-released_at")[:8]
    )
    charts = [
        {
            "id": "affection",
            "title": "Patients and controls",
            "what": "Donor",
            "rows": _chart(facets["affection_status"], "affection_status"),
            "note": "Unaffected carriers are counted as controls unless their consent shares genetic data with you.",
        },
        {
            "id": "disease",
            "title": "Lines by disease",
            "what": "Disease",
            "rows": _chart(
                facets["disease"],
                "disease",
            ),
            "wide": True,
        },
        {
            "id": "gene",
            "title": "Lines by gene",
            "what": "Gene",
            "rows": _chart(facets["gene"], "gene"),
            "note": "Genes with a variant you may see (germline or engineered).",
        },
        {
            "id": "ancestry",
            "title": "Lines by ancestry",
            "what": "Ancestry",
            "rows": _chart(facets["ancestry"], "ancestry"),
        },
        {
            "id": "sex",
            "title": "Lines by donor sex",
            "what": "Sex",
            "rows": _chart(facets["sex"], "sex"),
        },
        {
            "id": "onset",
            "title": "Lines by age at onset",
            "what": "Age at onset (years)",
            "rows": _chart(onset_values, limit=len(ONSET_BANDS)),
            "note": f"{onset['unrecorded']} lines have no age at onset (healthy controls, or not recorded).",
        },
    ]
    return render(
        request,
        "home.html",
        {
            "stats": stats,
            "recent": recent,
            "charts": charts,
        },
    )


@never_cache  # Cache-Control: no-store: the page shows a secret
@login_required
@require_http_methods(["GET", "POST"])
def api_token(request):
    """The user's DRF token: shown, and replaced by a new one on POST (the old one stops working)."""
    if request.method == "POST":
        with transaction.atomic():
            Token.objects.filter(user=request.user).delete()
            Token.objects.create(user=request.user)
        messages.success(request, "A new token was made. The old one no longer works.")
        return redirect("api-token")
    token = Token.objects.filter(user=request.user).first()
    return render(
        request,
        "registration/token.html",
        {
            "token": token,
            "api_root": request.build_absolute_uri("/api/v1/lines/"),
        },
    )


def _line_and_qc_figures():
    figures = released_qc_figures()
    if figures is not None:
        line_figures, per_test = figures
        return line_figures, _qc_rows(line_figures, per_test)
    released = CellLine.objects.filter(status=CurationStatus.RELEASED)
    line_figures = released.aggregate(
        total=Count("pk"),
        passed=Count("pk", filter=Q(qc_status=QCStatus.PASSED)),
        failed=Count("pk", filter=Q(qc_status=QCStatus.FAILED)),
        incomplete=Count("pk", filter=Q(qc_status=QCStatus.INCOMPLETE)),
        needs_vector=Count("pk", filter=needs_vector_clearance_q()),
    )
    per_test = {
        row["test"]: row
        for row in QCRecord.objects.filter(
            line__status=CurationStatus.RELEASED, test__in=[*CORE_TESTS, "vector_clearance"]
        )
        .values("test")
        .annotate(
            tested=Count("line", distinct=True),
            failing=Count("line", distinct=True, filter=Q(result=QCResult.FAIL)),
            inconclusive=Count("line", distinct=True, filter=Q(result=QCResult.INCONCLUSIVE)),
        )
    }
    return line_figures, _qc_rows(line_figures, per_test)


def _qc_rows(line_figures, per_test):
    qc_rows = []
    for test in [*CORE_TESTS, "vector_clearance"]:
        required = line_figures["needs_vector"] if test == "vector_clearance" else line_figures["total"]
        row = per_test.get(test, {"tested": 0, "failing": 0, "inconclusive": 0})
        qc_rows.append(
            {
                "test": test,
                "label": QC_LABELS.get(test, test),
                "required": required,
                "missing": max(required - row["tested"], 0),
                "failing": row["failing"],
                "inconclusive": row["inconclusive"],
            }
        )
    return qc_rows


@login_required
def curator_dashboard(request):
    if not is_curator(request.user):
        raise PermissionDenied("The curator dashboard is for curators.")
    now = timezone.now()
    submissions = Submission.objects.aggregate(
        **{
            f"{status}_n": Count("pk", filter=Q(status=status))
            for status in (
                SubmissionStatus.RECEIVED,
                SubmissionStatus.VALIDATING,
                SubmissionStatus.VALID,
                SubmissionStatus.APPROVING,
                SubmissionStatus.INVALID,
            )
        },
        **{
            f"{status}_oldest": Min("created_at", filter=Q(status=status))
            for status in (
                SubmissionStatus.RECEIVED,
                SubmissionStatus.VALIDATING,
                SubmissionStatus.VALID,
                SubmissionStatus.APPROVING,
                SubmissionStatus.INVALID,
            )
        },
    )
    submission_rows = [
        {
            "label": label,
            "count": submissions[f"{status}_n"],
            "oldest": submissions[f"{status}_oldest"],
            "status": status,
        }
        for status, label in (
            (SubmissionStatus.VALID, "Valid, waiting for a decision"),
            (SubmissionStatus.APPROVING, "Approved, lines being written"),
            (SubmissionStatus.INVALID, "Invalid, waiting for the depositor"),
            (SubmissionStatus.RECEIVED, "Received, not yet validated"),
            (SubmissionStatus.VALIDATING, "Being validated"),
        )
    ]
    review = Q(status__in=[RequestStatus.SUBMITTED, RequestStatus.UNDER_REVIEW])
    agreement = Q(status=RequestStatus.APPROVED)
    shipping = Q(status=RequestStatus.AGREEMENT_EXECUTED)
    held = Q(on_hold=True)
    requests_ = DistributionRequest.objects.aggregate(
        review_n=Count("pk", filter=review),
        review_oldest=Min("submitted_at", filter=review),
        agreement_n=Count("pk", filter=agreement),
        agreement_oldest=Min("decided_at", filter=agreement),
        shipping_n=Count("pk", filter=shipping),
        shipping_oldest=Min("updated_at", filter=shipping),
        held_n=Count("pk", filter=held),
        held_oldest=Min("updated_at", filter=held),
    )
    request_rows = [
        {"label": label, "count": requests_[f"{key}_n"], "oldest": requests_[f"{key}_oldest"]}
        for key, label in (
            ("review", "Submitted, to review"),
            ("agreement", "Approved, awaiting the agreement"),
            ("shipping", "Agreement executed, to ship"),
            ("held", "On hold (consent withdrawn)"),
        )
    ]

    # The line and QC figures read every released line and its QC records: in the shared
    # cache under the catalog version (a QC record, a release or a withdrawal bumps it).
    # Submissions and requests are small tables, read live.
    line_figures, qc_rows = cached("curator-dashboard", "curator", _line_and_qc_figures)
    total = line_figures["total"] or 0
    share = round(100 * line_figures["passed"] / total, 1) if total else None
    recent_withdrawn = CellLine.objects.filter(
        status=CurationStatus.WITHDRAWN, updated_at__gte=now - timedelta(days=30)
    ).count()
    return render(
        request,
        "curator/dashboard.html",
        {
            "submission_rows": submission_rows,
            "request_rows": request_rows,
            "submissions_open": sum(r["count"] for r in submission_rows),
            "requests_open": sum(r["count"] for r in request_rows[:3]),
            "lines": line_figures,
            "share": share,
            "qc_rows": qc_rows,
            "recent_withdrawn": recent_withdrawn,
        },
    )
