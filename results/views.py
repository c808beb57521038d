"""The results pages: browser, dataset, deposit, comparison and the assays. Views
parse, fetch with visible_to(user) or a selector, call one action, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.roles import is_curator
from distribution.models import WorkflowError
from donors.disclosure import shares_results_of
from results import actions
from results.api import comparison_rows, csv_response, dataset_queryset
from results.assays import assay_catalogue
from results.charts import comparison_spec, dose_response_spec, fit_curves
from results.deposit import METADATA_FIELDS, DepositError, deposit_dataset, read_upload
from results.filters import DatasetFilter
from results.models import Assay, DatasetStatus, DepositFormat
from results.selectors import GROUPINGS, readouts_for, subgroup_comparison
from results.tables import blank_csv, blank_xlsx

PAGE_SIZE = 50


def browser(request):
    filterset = DatasetFilter(request.GET, queryset=dataset_queryset(request.user), request=request)
    datasets = list(filterset.qs.order_by("-created_at", "-id")[:PAGE_SIZE]) if filterset.is_valid() else []
    return render(
        request,
        "results/browser.html",
        {
            "filters": filterset,
            "datasets": datasets,
            "assays": Assay.choices,
            "statuses": DatasetStatus.choices,
            "page_size": PAGE_SIZE,
        },
    )


def dataset_detail(request, pk):
    dataset = get_object_or_404(dataset_queryset(request.user), pk=pk)
    shown = dataset.data_visible_to(request.user)
    fits = list(dataset.fits.select_related("line")) if shown else []
    measurements = list(dataset.measurements.select_related("line")[:2001]) if shown else []
    summary = _summary(measurements[:2000]) if shown and dataset.assay != Assay.DOSE_RESPONSE else []
    chart = None
    if shown and dataset.assay == Assay.DOSE_RESPONSE and measurements:
        chart = dose_response_spec(measurements[:2000], fit_curves(fits))
    withdrawn = [item.line.name for item in dataset.line_items.all() if _withdrawn(item.line)]
    mine = request.user.is_authenticated and request.user.pk == dataset.depositor_id
    return render(
        request,
        "results/dataset.html",
        {
            "dataset": dataset,
            "shown": shown,
            "fits": fits,
            "summary": summary,
            "too_many": len(measurements) > 2000,
            "chart": chart,
            "withdrawn": withdrawn,
            "report_shown": mine or shares_results_of(request.user, dataset.institution_id),
            "may_decide": is_curator(request.user) and dataset.status == DatasetStatus.PENDING_REVIEW,
        },
    )


def _withdrawn(line):
    consent = getattr(line.donor, "consent", None) if line.donor_id else None
    return consent is not None and consent.withdrawn_on is not None


def _summary(measurements):
    """Per line, readout and condition: n and mean, the table under a dataset."""
    groups = {}
    for m in measurements:
        key = (m.line.name, m.readout, m.compound, m.concentration, m.time_point)
        groups.setdefault(key, {"unit": m.unit, "values": []})["values"].append(m.value)
    return [
        {
            "line": k[0],
            "readout": k[1],
            "compound": k[2],
            "concentration": k[3],
            "time_point": k[4],
            "unit": v["unit"],
            "n": len(v["values"]),
            "mean": sum(v["values"]) / len(v["values"]),
        }
        for k, v in sorted(groups.items(), key=lambda kv: tuple("" if x is None else x for x in kv[0]))
    ]


@login_required
@require_POST
def decide(request, pk, decision):
    dataset = get_object_or_404(dataset_queryset(request.user), pk=pk)
    reason = request.POST.get("reason", "").replace("\x00", "")[:5000]
    try:
        if decision == "release":
            actions.release_dataset(dataset, request.user, reason)
            messages.success(request, "Dataset released.")
        elif decision == "reject":
            actions.reject_dataset(dataset, request.user, reason)
            messages.success(request, "Dataset rejected.")
        else:
            raise Http404("No such decision.")
    except WorkflowError as error:
        if error.status_code == 403:
            raise PermissionDenied(error.message) from error
        messages.error(request, error.message)
    return redirect("results:dataset", pk=pk)


@login_required
def deposit(request):
    context = {"assays": assay_catalogue(), "formats": DepositFormat.choices, "values": request.POST, "problems": {}}
    if request.method == "POST":
        post = request.POST
        metadata = {
            key: post.get(key, "").strip()
            for key in METADATA_FIELDS
            if key not in ("protocol", "lines") and post.get(key, "").strip()
        }
        protocol = {k: post.get(f"protocol_{k}", "").strip() for k in ("name", "version", "url")}
        metadata["protocol"] = {k: v for k, v in protocol.items() if v}
        # A table names its lines; a files-only dataset (RNA-seq, VCF) names them here.
        named = [n.strip() for n in post.get("lines", "").replace("\n", ",").split(",") if n.strip()]
        if named:
            metadata["lines"] = [{"line": name} for name in named]
        try:
            dataset = deposit_dataset(
                request.user,
                assay=post.get("assay", ""),
                fmt=post.get("format", ""),
                content=read_upload(request.FILES.get("document")),
                metadata=metadata,
                files=request.FILES.getlist("files"),
                protocol_document=request.FILES.get("protocol_document"),
            )
        except DepositError as error:
            context["problems"] = error.problems
            return render(request, "results/deposit.html", context, status=400)
        messages.success(request, "Deposit received: it is being validated. This page shows the report when done.")
        return redirect("results:dataset", pk=dataset.pk)
    return render(request, "results/deposit.html", context)


def template_file(request, assay, fmt):
    if assay not in Assay.values or fmt not in ("csv", "xlsx"):
        raise Http404("No such template.")
    if fmt == "csv":
        return HttpResponse(
            blank_csv(assay),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="prism-results-{assay}.csv"'},
        )
    return HttpResponse(
        blank_xlsx(assay),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="prism-results-{assay}.xlsx"'},
    )


def assays(request):
    catalogue = assay_catalogue()
    for item in catalogue:
        item["schema_url"] = reverse("api-results-assay-schema", args=[item["assay"]])
    return render(request, "results/assays.html", {"assays": catalogue})


def compare(request):
    readouts = readouts_for(request.user)
    readout = request.GET.get("readout") or (readouts[0].key if readouts else "")
    grouping = request.GET.get("group_by") or "gene"
    if grouping not in GROUPINGS:
        grouping = "gene"
    only = [g for g in request.GET.getlist("groups") if g]
    answer = subgroup_comparison(request.user, readout, grouping, only) if readout else None
    if answer is not None and request.GET.get("as") == "csv":
        return csv_response(comparison_rows(answer), "comparison.csv")
    all_groups = []
    if answer is not None and grouping != "isogenic_pair":
        everything = subgroup_comparison(request.user, readout, grouping) if only else answer
        all_groups = [g["group"] for g in (everything or {}).get("groups", [])]
    chart = comparison_spec(answer) if answer else None
    query = request.GET.copy()
    query["as"] = "csv"
    return render(
        request,
        "results/compare.html",
        {
            "readouts": readouts,
            "readout": readout,
            "groupings": GROUPINGS.items(),
            "grouping": grouping,
            "only": only,
            "all_groups": all_groups,
            "answer": answer,
            "chart": chart,
            "csv_query": query.urlencode(),
        },
    )
