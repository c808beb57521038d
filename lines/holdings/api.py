"""Holdings API: lines, their QC records and the depositing institutions.

Read-only: lines enter the catalog through submissions (lines/submissions/api.py),
so POST/PUT/PATCH/DELETE here are 405 (401 when anonymous). Every queryset starts
from `visible_to(user)`; the representation (lines/holdings/representation.py) then hides
genetic data the consent keeps to curators.
"""

import csv
import hashlib
import io

import orjson
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, F, OuterRef
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.urls import path
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from core import catalog_version
from core.api import (
    AUTHENTICATION_CLASSES,
    RENDERER_CLASSES,
    KeysetPagination,
    StrictDjangoFilterBackend,
    bad_parameter,
    parse_bool_param,
    reject_unknown_params,
)
from core.models import Institution
from lines.holdings import representation as rep
from lines.holdings.facet_index import facet_counts, filtered_lines, ranked_lines
from lines.holdings.filters import (
    DEFAULT_LINE_ORDERING,
    LINE_ORDERING_UNIQUE,
    LINE_ORDERINGS,
    CellLineFilter,
    QCRecordFilter,
)
from lines.holdings.serializers import (
    CellLineDetailSerializer,
    CellLineSummarySerializer,
    FacetsResponseSerializer,
    InstitutionSerializer,
    QCRecordSerializer,
    TombstoneSerializer,
    check_lookup,
    lookup_parameter,
)
from lines.holdings.views.catalog import visibility_key
from lines.models import (
    CellLine,
    QCRecord,
)
from lines.selectors import tombstone, tombstone_facts

LINE_NAME_MAX = 40
INSTITUTION_CODE_MAX = 6
EXPORT_CHUNK = 1000


# -- querysets -----------------------------------------------------------------------
LIST_DEFERRED = (
    "search_text",
    "search_text_restricted",
    "str_profile",
    "str_conflicts",
    "comments",
    "modification_description",
    "donor__str_profile",
    "donor__clinical_data",
    "donor__viral_screening",
)


class HoldingsView:
    authentication_classes = AUTHENTICATION_CLASSES
    renderer_classes = RENDERER_CLASSES

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["viewer"] = rep.Viewer(self.request)
        return context


class FilteredLinesView(HoldingsView):
    """A line view whose filters are also the facets' input."""

    def shared_response(self, request, respond):
        """`respond()`'s JSON body, kept in the shared cache (settings.CACHES: Redis in the
        full stack) under the catalog version, who is looking (visibility_key: anonymous
        and curators never share an entry), the whole address (links are absolute) and
        the media type: a write changes the version, so it shows at once on every
        process. Only 200s are kept; the browsable HTML (per user) and research purposes
        (read from the user's profile) are never cached."""
        if request.accepted_renderer.format != "json" or any(k.startswith("purpose") for k in request.query_params):
            return respond()
        raw = repr(
            (
                catalog_version.current(),
                visibility_key(request.user),
                request.build_absolute_uri(),
                request.accepted_media_type,
            )
        )
        key = f"api-response:{hashlib.sha256(raw.encode()).hexdigest()}"
        hit = cache.get(key)
        if hit is not None:
            body, content_type = hit
            return HttpResponse(body, content_type=content_type)
        response = respond()

        def keep(rendered):
            if rendered.status_code == 200:
                cache.set(key, (rendered.content, rendered["Content-Type"]), settings.CATALOG_CACHE_SECONDS)

        response.add_post_render_callback(keep)
        return response

    def valid_filterset(self):
        """The CellLineFilter over the lines the user may see, checked as the filter
        backend checks it (unknown parameters and bad values are 400s naming them)."""
        backend = StrictDjangoFilterBackend()
        reject_unknown_params(self.request, backend.allowed_params(self))
        filterset = backend.get_filterset(self.request, self.get_queryset(), self)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        return filterset


class LinePagination(KeysetPagination):
    def get_paginated_response_schema(self, schema):
        body = super().get_paginated_response_schema(schema)
        body["properties"]["facets"] = {
            "allOf": [{"$ref": "#/components/schemas/Facets"}],
            "description": "Present with facets=true: counts over every line matching the filters (a facet "
            "with a selection counts over the other filters), as /api/v1/lines/facets/.",
        }
        return body


FACETS_PARAM = OpenApiParameter(
    "facets",
    OpenApiTypes.BOOL,
    description="Add facet counts over all matching lines (not just this page).",
)


@extend_schema(tags=["lines"], parameters=[FACETS_PARAM])
class LineList(FilteredLinesView, generics.ListAPIView):
    """Lines you may see, filtered, ordered and paginated by cursor; `facets=true` adds counts."""

    serializer_class = CellLineSummarySerializer
    filter_backends = [StrictDjangoFilterBackend]
    filterset_class = CellLineFilter
    pagination_class = LinePagination
    ordering_fields = LINE_ORDERINGS
    default_ordering = DEFAULT_LINE_ORDERING
    ordering_unique = LINE_ORDERING_UNIQUE
    extra_query_params = ("facets",)

    def get_queryset(self):
        return CellLine.objects.visible_to(self.request.user)

    def list(self, request, *args, **kwargs):
        return self.shared_response(request, self.fresh_list)

    def fresh_list(self):
        request = self.request
        filterset = self.valid_filterset()
        filterset.qs  # noqa: B018 - raises the cross-field errors (age_min > age_max) as a 400
        with_facets = parse_bool_param(request, "facets")
        ranked = ranked_lines(filterset)
        # Where the facet index answers, the page's rows are read by primary key in the
        # order it holds; else the filters' query sorts them (filtered_lines).
        lines = filterset.queryset if ranked is not None else filtered_lines(filterset)
        rows = self.paginator.paginate_queryset(rep.summary_rows(lines), request, view=self, ranked=ranked)
        page = rep.attach_page_facts(rows)
        data = self.get_serializer(page, many=True).data
        extra = {"facets": facet_counts(filterset).facets} if with_facets else None
        return self.paginator.get_paginated_response(data, extra)


@extend_schema(tags=["lines"], responses={200: FacetsResponseSerializer})
class LineFacets(FilteredLinesView, generics.GenericAPIView):
    """Facet counts (lines per gene, disease, sex, ancestry ...) over the lines matching the filters;
    a facet with a selection counts over the other filters, so its other values stay offered
    (the /lines/ page's sidebar counts)."""

    filter_backends = [StrictDjangoFilterBackend]
    filterset_class = CellLineFilter
    ordering_fields = None

    def get_queryset(self):
        return CellLine.objects.visible_to(self.request.user)

    def get(self, request):
        return self.shared_response(request, lambda: Response({"facets": facet_counts(self.valid_filterset()).facets}))


class LineExport(HoldingsView, generics.GenericAPIView):
    """The filtered list, every matching line, streamed."""

    filter_backends = [StrictDjangoFilterBackend]
    filterset_class = CellLineFilter
    ordering_fields = LINE_ORDERINGS
    default_ordering = DEFAULT_LINE_ORDERING
    ordering_unique = LINE_ORDERING_UNIQUE
    export_format = "json"

    def get_queryset(self):
        return CellLine.objects.visible_to(self.request.user)

    def perform_content_negotiation(self, request, force=False):
        # The body is CSV or JSON whatever the client accepts (`Accept: text/csv` must
        # not be a 406); errors before streaming are rendered as JSON.
        return super().perform_content_negotiation(request, force=True)

    def ordered(self, queryset):
        keys = KeysetPagination().get_ordering(self.request, self)
        return queryset.order_by(*[f"-{path}" if desc else path for path, desc in keys])

    def rows(self, queryset):
        viewer = rep.Viewer(self.request)
        batch = []
        for row in queryset.iterator(chunk_size=EXPORT_CHUNK):
            batch.append(row)
            if len(batch) == EXPORT_CHUNK:
                yield from (rep.summary_from_row(r, viewer) for r in rep.attach_page_facts(batch))
                batch = []
        yield from (rep.summary_from_row(r, viewer) for r in rep.attach_page_facts(batch))

    def get(self, request):
        queryset = self.ordered(rep.summary_rows(self.filter_queryset(self.get_queryset())))
        if self.export_format == "csv":
            response = StreamingHttpResponse(self.csv_stream(queryset), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="prism-lines.csv"'
        else:
            response = StreamingHttpResponse(self.json_stream(queryset), content_type="application/json")
            response["Content-Disposition"] = 'attachment; filename="prism-lines.json"'
        return response

    def csv_stream(self, queryset):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(rep.CSV_COLUMNS)
        for index, summary in enumerate(self.rows(queryset)):
            writer.writerow(rep.csv_row(summary))
            if index % 200 == 199:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    def json_stream(self, queryset):
        yield b"["
        first = True
        for summary in self.rows(queryset):
            yield (b"" if first else b",") + orjson.dumps(summary)
            first = False
        yield b"]"


_EXPORT_DOC = "Every line matching the filters (same parameters as the list, no pagination), streamed."


@extend_schema(
    tags=["lines"],
    description=_EXPORT_DOC,
    responses={
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, one row per line."),
    },
)
class LineExportCSV(LineExport):
    export_format = "csv"


@extend_schema(tags=["lines"], description=_EXPORT_DOC, responses={200: CellLineSummarySerializer(many=True)})
class LineExportJSON(LineExport):
    export_format = "json"


class LineWithdrawn(APIException):
    """410 Gone: the line's tombstone (lines.selectors.tombstone_facts)."""

    status_code = 410
    default_code = "withdrawn"

    def __init__(self, facts):
        super().__init__()
        self.detail = facts


@extend_schema(
    tags=["lines"],
    parameters=[lookup_parameter("name", LINE_NAME_MAX, "The line's name, e.g. UKBi001-A")],
    responses={
        200: CellLineDetailSerializer,
        410: OpenApiResponse(
            TombstoneSerializer, description="The line was withdrawn: when and why (its permanent tombstone)."
        ),
    },
)
class LineDetail(HoldingsView, generics.RetrieveAPIView):
    """One line by name: donor facts, variants, isogenic relatives, QC, consent terms, links."""

    serializer_class = CellLineDetailSerializer
    lookup_field = "name"

    def get_queryset(self):
        return (
            CellLine.objects.visible_to(self.request.user)
            .select_related("donor__consent", "donor__institution", "institution", "parental_line")
            .defer("search_text", "search_text_restricted")
            .annotate(parental_name=F("parental_line__name"))
            .prefetch_related("variants", "donor__variants", "donor__consent__codes", "qc_records")
        )

    def get_object(self):
        name = self.kwargs["name"]
        check_lookup("name", name, LINE_NAME_MAX)
        reject_unknown_params(self.request, ())
        line = self.get_queryset().filter(name=name).first()
        if line is None:
            gone = tombstone(name)
            if gone is not None:
                raise LineWithdrawn(tombstone_facts(gone))
            raise Http404("No line of that name is visible to you.")
        visible = CellLine.objects.visible_to(self.request.user).only("id", "name").order_by("name")
        parent = visible.filter(pk=line.parental_line_id).first() if line.parental_line_id else None
        line._relatives = {
            "parent": parent,
            "siblings": list(visible.filter(parental_line_id=line.parental_line_id).exclude(pk=line.pk))
            if line.parental_line_id
            else [],
            "subclones": list(visible.filter(parental_line_id=line.pk)),
            "same_donor": list(visible.filter(donor_id=line.donor_id).exclude(pk=line.pk)) if line.donor_id else [],
            "qc_records": list(line.qc_records.all()),
        }
        return line


@extend_schema(tags=["qc"])
class QCRecordList(HoldingsView, generics.ListAPIView):
    """QC records of the lines you may see, filterable by line, test and result."""

    serializer_class = QCRecordSerializer
    filter_backends = [StrictDjangoFilterBackend]
    filterset_class = QCRecordFilter
    pagination_class = KeysetPagination
    ordering_fields = {"id": "pk", "tested_on": "tested_on"}
    default_ordering = ("id",)

    def get_queryset(self):
        visible = CellLine.objects.visible_to(self.request.user)
        # EXISTS, not IN: a page ordered by id probes each record's line by primary
        # key instead of hashing every visible line first.
        return (
            QCRecord.objects.filter(Exists(visible.filter(pk=OuterRef("line_id"))))
            .select_related("line__donor__consent")
            .only(
                "id",
                "test",
                "method",
                "result",
                "details",
                "passage",
                "tested_on",
                "testing_lab",
                "document",
                "line__id",
                "line__name",
                "line__donor__id",
                "line__donor__consent__genetic_data",
                "line__donor__consent__withdrawn_on",
                "line__donor__consent__id",
            )
        )


@extend_schema(
    tags=["qc"],
    parameters=[
        OpenApiParameter(
            "record_id", str, OpenApiParameter.PATH, pattern="^[0-9]{1,18}$", description="The QC record's id."
        )
    ],
)
class QCRecordDetail(HoldingsView, generics.RetrieveAPIView):
    serializer_class = QCRecordSerializer
    lookup_url_kwarg = "record_id"

    def get_queryset(self):
        visible = CellLine.objects.visible_to(self.request.user)
        return QCRecord.objects.filter(Exists(visible.filter(pk=OuterRef("line_id")))).select_related(
            "line__donor__consent"
        )

    def get_object(self):
        raw = self.kwargs["record_id"]
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise bad_parameter("record_id", "Must be a positive whole number.")
        reject_unknown_params(self.request, ())
        return generics.get_object_or_404(self.get_queryset(), pk=int(raw))


def attach_visible_line_counts(institutions, user):
    """Each institution's number of lines the user may see: one GROUP BY for the page."""
    counts = dict(
        CellLine.objects.visible_to(user)
        .filter(institution_id__in=[i.pk for i in institutions])
        .order_by()
        .values_list("institution_id")
        .annotate(n=Count("pk"))
    )
    for institution in institutions:
        institution.visible_lines = counts.get(institution.pk, 0)
    return institutions


@extend_schema(tags=["institutions"])
class InstitutionList(HoldingsView, generics.ListAPIView):
    """Every depositing institution (public), with how many of its lines you may see."""

    serializer_class = InstitutionSerializer
    filter_backends = [StrictDjangoFilterBackend]
    pagination_class = KeysetPagination
    ordering_fields = {"code": "code", "name": "name"}
    default_ordering = ("code",)
    ordering_unique = ("code",)

    def get_queryset(self):
        return Institution.objects.all()

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = attach_visible_line_counts(self.paginate_queryset(queryset), request.user)
        return self.paginator.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema(
    tags=["institutions"], parameters=[lookup_parameter("code", INSTITUTION_CODE_MAX, "The institution's code")]
)
class InstitutionDetail(HoldingsView, generics.RetrieveAPIView):
    serializer_class = InstitutionSerializer
    lookup_field = "code"

    def get_queryset(self):
        return Institution.objects.all()

    def get_object(self):
        code = self.kwargs["code"]
        check_lookup("code", code, INSTITUTION_CODE_MAX)
        reject_unknown_params(self.request, ())
        institution = generics.get_object_or_404(self.get_queryset(), code=code)
        return attach_visible_line_counts([institution], self.request.user)[0]


urlpatterns = [
    path("lines/", LineList.as_view(), name="api-line-list"),
    path("lines/facets/", LineFacets.as_view(), name="api-line-facets"),
    path("lines/export.csv", LineExportCSV.as_view(), name="api-line-export-csv"),
    path("lines/export.json", LineExportJSON.as_view(), name="api-line-export-json"),
    # path: Cellosaurus names may hold a "/" (066MD-CUMC/INSERM).
    path("lines/<path:name>/", LineDetail.as_view(), name="api-line-detail"),
    path("qc/", QCRecordList.as_view(), name="api-qc-list"),
    path("qc/<str:record_id>/", QCRecordDetail.as_view(), name="api-qc-detail"),
    path("institutions/", InstitutionList.as_view(), name="api-institution-list"),
    path("institutions/<str:code>/", InstitutionDetail.as_view(), name="api-institution-detail"),
]
