"""/api/v1/ results: datasets (deposit, list, read, release), their measurements and
fits (JSON or CSV), the assays and their schemas, the subgroup comparison, and the
curator's waiver of the return of derived data (DUO RTN).

Views parse, look up with visible_to(user), call one action or selector, answer.
A dataset the caller may not see is a 404; its numbers under embargo are empty
lists with `data_shown: false`."""

import csv
import io

import orjson
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.api import KeysetPagination, StrictDjangoFilterBackend, reject_unknown_params
from core.parsers import JSONParser
from distribution.api.common import DistributionAPIView, WorkflowErrorsMixin, error_responses
from distribution.models import DistributionRequest
from distribution.returns import return_outstanding, waive_return
from results import actions
from results.assays import assay_catalogue, schema_of
from results.deposit import DepositError, deposit_dataset, read_upload
from results.filters import DatasetFilter
from results.models import Assay, Dataset, DatasetLine
from results.selectors import GROUPINGS, readouts_for, subgroup_comparison
from results.serializers import (
    AssaySerializer,
    ComparisonSerializer,
    DatasetSerializer,
    DatasetSummarySerializer,
    DecisionSerializer,
    DepositSerializer,
    FitSerializer,
    MeasurementSerializer,
    ReadoutSerializer,
    WaiverSerializer,
)

TAGS = ["results"]
CSV_RESPONSE = OpenApiResponse(OpenApiTypes.STR, description="CSV, one row per item, header first")


def dataset_queryset(user):
    return (
        Dataset.objects.visible_to(user)
        .select_related("institution")
        .annotate(line_count=Count("line_items", distinct=True))
        .prefetch_related(
            Prefetch("line_items", queryset=DatasetLine.objects.select_related("line__donor__consent").order_by("id")),
            "files",
        )
    )


def visible_dataset(user, pk):
    return get_object_or_404(dataset_queryset(user), pk=pk)


def dataset_body(dataset, user):
    return DatasetSerializer(dataset, context={"user": user}).data


def csv_response(rows, filename):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class DatasetListView(WorkflowErrorsMixin, generics.GenericAPIView):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filter_backends = [StrictDjangoFilterBackend]
    filterset_class = DatasetFilter
    pagination_class = KeysetPagination
    ordering_fields = {"created_at": "created_at", "id": "pk", "title": "title"}
    default_ordering = ("-created_at",)
    serializer_class = DatasetSummarySerializer

    def get_queryset(self):
        return dataset_queryset(self.request.user)

    @extend_schema(
        operation_id="datasets_list",
        summary="Datasets of experimental results you may see",
        description="Released datasets whose every donor's consent opens their data; curators and the depositing "
        "institution also see the rest. Filter by assay, cell type, compound, gene or disease.",
        responses={200: DatasetSummarySerializer(many=True), **error_responses(400, 401)},
        tags=TAGS,
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(DatasetSummarySerializer(page, many=True).data)

    @extend_schema(
        operation_id="datasets_deposit",
        summary="Deposit a dataset (validated by the worker)",
        description="Either a JSON body: the whole document (results/assays/schemas; see `results/assays/`), or "
        "multipart: `assay`, `format` (csv | xlsx | json), `metadata` (JSON), `document` (the measurement "
        "table or the JSON document) and `files`. Answers 202 with the dataset `received`; poll it for the "
        "report. Lines must be your institution's or shipped to you.",
        request={"application/json": OpenApiTypes.OBJECT, "multipart/form-data": DepositSerializer},
        responses={202: DatasetSerializer, **error_responses(400, 401, 403)},
        tags=TAGS,
    )
    def post(self, request):
        try:
            if request.content_type.startswith("application/json"):
                document = request.data
                if not isinstance(document, dict):
                    raise ValidationError({"document": ["A JSON object is expected."]})
                assay = document.get("assay")
                dataset = deposit_dataset(
                    request.user,
                    assay=assay if isinstance(assay, str) else "",
                    fmt="json",
                    content=orjson.dumps(document),
                )
            else:
                data = DepositSerializer(data=request.data)
                data.is_valid(raise_exception=True)
                values = data.validated_data
                metadata = values.get("metadata") or {}
                if not isinstance(metadata, dict):
                    raise ValidationError({"metadata": ["A JSON object is expected."]})
                dataset = deposit_dataset(
                    request.user,
                    assay=values["assay"],
                    fmt=values["format"],
                    content=read_upload(values.get("document")),
                    metadata=metadata,
                    files=values.get("files") or [],
                    protocol_document=values.get("protocol_document"),
                )
        except DepositError as error:
            raise ValidationError({k: [v] for k, v in error.problems.items()}) from error
        return Response(
            dataset_body(visible_dataset(request.user, dataset.pk), request.user), status=status.HTTP_202_ACCEPTED
        )


class DatasetDetailView(DistributionAPIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="datasets_retrieve",
        summary="One dataset: metadata, lines, files, validation report",
        responses={200: DatasetSerializer, **error_responses(404)},
        tags=TAGS,
    )
    def get(self, request, pk):
        return Response(dataset_body(visible_dataset(request.user, pk), request.user))


def _data_rows(request, pk, kind):
    reject_unknown_params(request, {"as"})
    as_ = request.query_params.get("as", "json")
    if as_ not in ("json", "csv"):
        raise ValidationError({"as": ["Use json or csv."]})
    dataset = visible_dataset(request.user, pk)
    shown = dataset.data_visible_to(request.user)
    if kind == "measurements":
        rows = dataset.measurements.select_related("line") if shown else []
        serializer, fields = MeasurementSerializer, MeasurementSerializer.Meta.fields
    else:
        rows = dataset.fits.select_related("line") if shown else []
        serializer, fields = FitSerializer, FitSerializer.Meta.fields
    data = serializer(rows, many=True).data
    if as_ == "csv":
        return csv_response([fields, *([item[f] for f in fields] for item in data)], f"dataset-{pk}-{kind}.csv")
    return Response(data)


class MeasurementsView(DistributionAPIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="datasets_measurements",
        summary="A dataset's measurements (JSON, or CSV with ?as=csv)",
        description="Empty while the dataset is under embargo for you.",
        parameters=[OpenApiParameter("as", str, enum=["json", "csv"], required=False)],
        responses={
            (200, "application/json"): MeasurementSerializer(many=True),
            (200, "text/csv"): CSV_RESPONSE,
            **error_responses(400, 404),
        },
        tags=TAGS,
    )
    def get(self, request, pk):
        return _data_rows(request, pk, "measurements")


class FitsView(DistributionAPIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="datasets_fits",
        summary="A dose-response dataset's 4PL fits per line and compound (JSON, or CSV with ?as=csv)",
        description="EC50 in µM with its 95 % confidence interval, Hill slope, top, bottom; a refused fit says why.",
        parameters=[OpenApiParameter("as", str, enum=["json", "csv"], required=False)],
        responses={
            (200, "application/json"): FitSerializer(many=True),
            (200, "text/csv"): CSV_RESPONSE,
            **error_responses(400, 404),
        },
        tags=TAGS,
    )
    def get(self, request, pk):
        return _data_rows(request, pk, "fits")


def _decision_view(name, perform, summary):
    class DecisionView(DistributionAPIView):
        @extend_schema(
            operation_id=f"datasets_{name}",
            summary=summary,
            request=DecisionSerializer,
            responses={200: DatasetSerializer, **error_responses(400, 401, 403, 404, 409)},
            tags=TAGS,
        )
        def post(self, request, pk):
            dataset = visible_dataset(request.user, pk)
            data = DecisionSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            perform(dataset, request.user, data.validated_data["reason"])
            return Response(dataset_body(visible_dataset(request.user, pk), request.user))

    DecisionView.__name__ = f"Dataset{name.capitalize()}View"
    return DecisionView


ReleaseView = _decision_view("release", actions.release_dataset, "Release a valid dataset (curator)")
RejectView = _decision_view("reject", actions.reject_dataset, "Reject a valid dataset, with a reason (curator)")


class AssayListView(DistributionAPIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="results_assays",
        summary="The assays a dataset may hold, with their table columns",
        responses={200: AssaySerializer(many=True)},
        tags=TAGS,
    )
    def get(self, request):
        return Response(assay_catalogue())


class AssaySchemaView(DistributionAPIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="results_assay_schema",
        summary="The JSON Schema of a deposit of one assay",
        responses={200: OpenApiTypes.OBJECT, **error_responses(404)},
        tags=TAGS,
    )
    def get(self, request, assay):
        if assay not in Assay.values:
            raise NotFound(f"No assay {assay!r}.")
        return Response(schema_of(assay))


class ReadoutsView(DistributionAPIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="results_readouts",
        summary="Readouts with data you may see (what the comparison can compare)",
        responses={200: ReadoutSerializer(many=True)},
        tags=TAGS,
    )
    def get(self, request):
        return Response([r.__dict__ for r in readouts_for(request.user)])


class CompareView(DistributionAPIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="results_compare",
        summary="Compare a readout (or a compound's EC50) across groups of lines",
        description="Per group n, median, quartiles and the points; Mann-Whitney U (two groups) or Kruskal-Wallis "
        "(more), with p-value and effect size; for isogenic pairs a Wilcoxon signed-rank test. Groups with n "
        "below the minimum are shown and marked too small.",
        parameters=[
            OpenApiParameter("readout", str, required=True, description="e.g. ec50:riluzole or survival:survival"),
            OpenApiParameter("group_by", str, enum=list(GROUPINGS), required=True),
            OpenApiParameter("groups", str, many=True, required=False, description="Only these groups (repeatable)"),
            OpenApiParameter("as", str, enum=["json", "csv"], required=False),
        ],
        responses={
            (200, "application/json"): ComparisonSerializer,
            (200, "text/csv"): CSV_RESPONSE,
            **error_responses(400, 404),
        },
        tags=TAGS,
    )
    def get(self, request):
        reject_unknown_params(request, {"readout", "group_by", "groups", "as"})
        readout, grouping = request.query_params.get("readout", ""), request.query_params.get("group_by", "")
        problems = {}
        if not readout:
            problems["readout"] = ["Required, e.g. ec50:riluzole (see results/readouts/)."]
        if grouping not in GROUPINGS:
            problems["group_by"] = [f"Use one of: {', '.join(GROUPINGS)}."]
        as_ = request.query_params.get("as", "json")
        if as_ not in ("json", "csv"):
            problems["as"] = ["Use json or csv."]
        if problems:
            raise ValidationError(problems)
        answer = subgroup_comparison(request.user, readout, grouping, request.query_params.getlist("groups"))
        if answer is None:
            raise NotFound(f"No data you may see for the readout {readout!r}.")
        if as_ == "csv":
            return csv_response(comparison_rows(answer), "comparison.csv")
        return Response(answer)


def comparison_rows(answer):
    """The comparison's numbers as CSV rows: one per line (group, line, value)."""
    if "pairs" in answer:
        yield ["parent", "subclone", "parent_value", "subclone_value", "difference"]
        for pair in answer["pairs"]:
            yield [pair["parent"], pair["subclone"], pair["parent_value"], pair["subclone_value"], pair["difference"]]
        return
    yield ["group", "line", f"value ({answer['readout']['unit']})"]
    for group in answer["groups"]:
        for point in group["points"]:
            yield [group["group"], point["line"], point["value"]]


class WaiveReturnView(DistributionAPIView):
    @extend_schema(
        operation_id="requests_waive_return",
        summary="Waive the return of derived data (DUO RTN) for a shipped request (curator), with a reason",
        request=WaiverSerializer,
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, 401, 403, 404)},
        tags=TAGS,
    )
    def post(self, request, pk):
        request_obj = get_object_or_404(DistributionRequest.objects.visible_to(request.user), pk=pk)
        data = WaiverSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        waive_return(request_obj, request.user, data.validated_data["reason"])
        return Response({"id": request_obj.pk, "outstanding": return_outstanding(request_obj)})


urlpatterns = [
    path("datasets/", DatasetListView.as_view(), name="api-dataset-list"),
    path("datasets/<int:pk>/", DatasetDetailView.as_view(), name="api-dataset-detail"),
    path("datasets/<int:pk>/measurements/", MeasurementsView.as_view(), name="api-dataset-measurements"),
    path("datasets/<int:pk>/fits/", FitsView.as_view(), name="api-dataset-fits"),
    path("datasets/<int:pk>/release/", ReleaseView.as_view(), name="api-dataset-release"),
    path("datasets/<int:pk>/reject/", RejectView.as_view(), name="api-dataset-reject"),
    path("results/assays/", AssayListView.as_view(), name="api-results-assays"),
    path("results/assays/<str:assay>/schema/", AssaySchemaView.as_view(), name="api-results-assay-schema"),
    path("results/readouts/", ReadoutsView.as_view(), name="api-results-readouts"),
    path("results/compare/", CompareView.as_view(), name="api-results-compare"),
    path("requests/<int:pk>/waive-return/", WaiveReturnView.as_view(), name="api-request-waive-return"),
]
