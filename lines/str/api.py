"""STR identity API: search the catalog's profiles, compare two profiles, search a batch.

POST /api/v1/str/search/   a profile and CLASTR's parameters → ranked hits
POST /api/v1/str/compare/  query and reference profiles → score and counts
POST /api/v1/str/batch/    a CSV/TSV/XLSX file in CLASTR's batch layout → one result table
"""

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import permissions, serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.parsers import JSONParser
from lines.str.batch import (
    MAX_BATCH_BYTES,
    MAX_BATCH_PROFILES,
    BatchError,
    batch_csv,
    read_batch,
    run_batch,
)
from lines.str.matching import (
    ALGORITHMS,
    DEFAULT_MAX_RESULTS,
    DEFAULT_MIN_MARKERS,
    DEFAULT_SCORE_FILTER,
    MODES,
    ProfileError,
    canonical_marker,
    check_profile,
    format_profile,
    is_possible_mixture,
    parse_alleles,
    score_with_conflicts,
    scored_marker_count,
)
from lines.str.search import search_profiles

MAX_RESULTS_LIMIT = 1000

PROFILE_EXAMPLE = {
    "Amelogenin": "X",
    "CSF1PO": "12,13",
    "D13S317": "12",
    "D16S539": "8,13",
    "D5S818": "10,13",
    "D7S820": "8,10",
    "TH01": "7,9",
    "TPOX": "11",
    "vWA": ["14", "17"],
}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "description": 'Marker name → alleles, as a string ("9,9.3") or a list; "ND" for not determined. '
        "Aliases such as Amel, CSF1P0, THO1 and VWA are understood.",
        "example": PROFILE_EXAMPLE,
    }
)
class StrProfileField(serializers.Field):
    """A profile in any form people write one; every unknown marker and malformed allele is named."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("a profile is an object from marker name to alleles")
        if not data:
            raise serializers.ValidationError("the profile has no markers")
        profile, problems = check_profile(data, keep_empty_markers=True)
        if problems:
            raise serializers.ValidationError({marker: [problem] for marker, problem in problems.items()})
        return profile

    def to_representation(self, value):
        return format_profile(value)


class ScoringParametersSerializer(serializers.Serializer):
    algorithm = serializers.ChoiceField(choices=ALGORITHMS, default="tanabe")
    mode = serializers.ChoiceField(
        choices=MODES,
        default="non_empty",
        help_text=(
            "non_empty: markers with data in both profiles; query: every query marker; "
            "reference: every reference marker."
        ),
    )
    include_amelogenin = serializers.BooleanField(default=False)
    min_markers = serializers.IntegerField(
        default=DEFAULT_MIN_MARKERS,
        min_value=1,
        max_value=40,
        help_text="The query needs this many markers with alleles (Amelogenin counted only when included); "
        "a hit needs this many scored markers.",
    )

    def _check_marker_count(self, attrs, field):
        profile = attrs.get(field)
        if profile is None:
            return
        count = scored_marker_count(profile, include_amelogenin=attrs["include_amelogenin"])
        if count < attrs["min_markers"]:
            amelogenin = "" if attrs["include_amelogenin"] else " (Amelogenin not counted)"
            raise serializers.ValidationError(
                {
                    field: [
                        f"too few markers: {count} with alleles{amelogenin}; at least {attrs['min_markers']} are needed "
                        "(min_markers)"
                    ]
                }
            )


class StrSearchRequestSerializer(ScoringParametersSerializer):
    profile = StrProfileField()
    score_filter = serializers.FloatField(default=DEFAULT_SCORE_FILTER, min_value=0, max_value=100)
    max_results = serializers.IntegerField(default=DEFAULT_MAX_RESULTS, min_value=1, max_value=MAX_RESULTS_LIMIT)

    def validate(self, attrs):
        self._check_marker_count(attrs, "profile")
        return attrs


class StrCompareRequestSerializer(ScoringParametersSerializer):
    query = StrProfileField()
    reference = StrProfileField()
    reference_conflicts = serializers.DictField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.CharField())),
        required=False,
        default=dict,
        help_text='Where the reference\'s sources disagree: {"D21S11": [["29", "30"], ["29"]]}. '
        "The answer then carries best and worst.",
    )

    def validate(self, attrs):
        self._check_marker_count(attrs, "query")
        return attrs


class ScoreCountsSerializer(serializers.Serializer):
    score = serializers.FloatField(help_text="Percent.")
    shared_alleles = serializers.IntegerField()
    query_alleles = serializers.IntegerField()
    reference_alleles = serializers.IntegerField()
    markers = serializers.IntegerField(help_text="Markers scored.")


class StrHitSerializer(ScoreCountsSerializer):
    name = serializers.CharField()
    accession = serializers.CharField(allow_null=True, help_text="Cellosaurus accession (CVCL_…) where known.")
    kind = serializers.ChoiceField(choices=["line", "donor", "reference"])
    object_id = serializers.IntegerField()
    mixture = serializers.BooleanField(help_text="The hit's profile has more than two alleles at several markers.")
    url = serializers.CharField(help_text="The line or donor record, or the Cellosaurus entry.")
    best = ScoreCountsSerializer(required=False, help_text="Only for references with conflicting profiles.")
    worst = ScoreCountsSerializer(required=False, help_text="Only for references with conflicting profiles.")


class StrSearchResponseSerializer(serializers.Serializer):
    query = serializers.DictField(child=serializers.CharField(allow_blank=True), help_text="The profile as normalised.")
    mixture = serializers.BooleanField(help_text="The query looks like a mixture of two cell populations.")
    parameters = serializers.DictField()
    results = StrHitSerializer(many=True)


class StrCompareResponseSerializer(ScoreCountsSerializer):
    algorithm = serializers.CharField()
    mode = serializers.CharField()
    mixture = serializers.DictField(child=serializers.BooleanField(), help_text="{query: bool, reference: bool}")
    best = ScoreCountsSerializer(required=False)
    worst = ScoreCountsSerializer(required=False)


class StrErrorSerializer(serializers.Serializer):
    profile = serializers.JSONField(
        required=False,
        help_text="Per marker: what is wrong, e.g. "
        '{"D5S818": ["malformed allele \'x\' (expected a repeat number such as 12 or 9.3)"]}',
    )


class StrBatchRequestSerializer(ScoringParametersSerializer):
    file = serializers.FileField(
        help_text=(
            f"CSV, TSV or XLSX: a header row (Sample Name, then marker names) and one profile per row; "
            f"at most {MAX_BATCH_PROFILES} profiles and {MAX_BATCH_BYTES // 1024 // 1024} MB."
        )
    )
    score_filter = serializers.FloatField(default=DEFAULT_SCORE_FILTER, min_value=0, max_value=100)
    max_results = serializers.IntegerField(default=20, min_value=1, max_value=DEFAULT_MAX_RESULTS)
    output = serializers.ChoiceField(choices=["json", "csv"], default="json")


class StrBatchSampleSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    sample = serializers.CharField()
    query = serializers.DictField(child=serializers.CharField(allow_blank=True))
    mixture = serializers.BooleanField()
    error = serializers.CharField(allow_null=True)
    results = StrHitSerializer(many=True)


class StrBatchResponseSerializer(serializers.Serializer):
    results = StrBatchSampleSerializer(many=True)


def _search_parameters(data):
    return {
        key: data[key]
        for key in (
            "algorithm",
            "mode",
            "include_amelogenin",
            "min_markers",
            "score_filter",
            "max_results",
        )
    }


def _parse_conflicts(raw):
    conflicts, problems = {}, {}
    for name, options in raw.items():
        marker = canonical_marker(name)
        if marker is None:
            problems[name] = ["unknown STR marker"]
            continue
        try:
            conflicts[marker] = [parse_alleles(marker, option) for option in options]
        except ProfileError as error:
            problems[name] = [error.problem]
    return conflicts, problems


def _caller(request):
    return request.user


class StrSearchView(APIView):
    """Which profiles in the catalog does this STR profile match?"""

    permission_classes = [permissions.AllowAny]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        operation_id="str_search",
        summary="Search the catalog's STR profiles (CLASTR-compatible)",
        description="Ranks every STR profile the caller may see (lines and donors whose consent opens "
        "genetic data, Cellosaurus references) against the query. Defaults are CLASTR's: Tanabe, "
        "non-empty markers, score ≥ 60, at least 8 markers, 200 results. Read Tanabe ≥ 90 as "
        "related, 80–90 ambiguous; Masters ≥ 80 related, 60–80 ambiguous.",
        request=StrSearchRequestSerializer,
        responses={
            200: StrSearchResponseSerializer,
            400: OpenApiResponse(
                StrErrorSerializer,
                description="Unknown marker, malformed allele, "
                "too few markers or a bad parameter; each problem names its marker.",
            ),
        },
        examples=[OpenApiExample("1-7HB2", value={"profile": PROFILE_EXAMPLE}, request_only=True)],
        tags=["STR"],
    )
    def post(self, request):
        serializer = StrSearchRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        parameters = _search_parameters(data)
        hits = search_profiles(data["profile"], user=_caller(request), **parameters)
        return Response(
            {
                "query": format_profile(data["profile"]),
                "mixture": is_possible_mixture(data["profile"]),
                "parameters": parameters,
                "results": [hit.as_dict() for hit in hits],
            }
        )


class StrCompareView(APIView):
    """Score one query profile against one reference profile."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="str_compare",
        summary="Compare two STR profiles",
        request=StrCompareRequestSerializer,
        responses={
            200: StrCompareResponseSerializer,
            400: OpenApiResponse(StrErrorSerializer, description="A problem with either profile, named by marker."),
        },
        tags=["STR"],
    )
    def post(self, request):
        serializer = StrCompareRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        options = {key: data[key] for key in ("algorithm", "mode", "include_amelogenin")}
        conflicts, problems = _parse_conflicts(data["reference_conflicts"])
        if problems:
            return Response({"reference_conflicts": problems}, status=400)
        result = score_with_conflicts(data["query"], data["reference"], conflicts, **options)
        body = {
            **result.best.as_dict(),
            "algorithm": data["algorithm"],
            "mode": data["mode"],
            "mixture": {
                "query": is_possible_mixture(data["query"]),
                "reference": is_possible_mixture(data["reference"]),
            },
        }
        if result.variants > 1:
            body["best"], body["worst"] = result.best.as_dict(), result.worst.as_dict()
        return Response(body)


class StrBatchView(APIView):
    """Search many profiles at once from a CLASTR batch file."""

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="str_batch",
        summary="Search a batch of STR profiles from a CSV/TSV/XLSX file",
        description=f"CLASTR's batch layout: header 'Sample Name', then one column per marker. At most "
        f"{MAX_BATCH_PROFILES} profiles per file. output=csv returns the table as a CSV download.",
        request={"multipart/form-data": StrBatchRequestSerializer},
        responses={
            200: StrBatchResponseSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            400: OpenApiResponse(
                description="The file's problems, each with its row and marker, or the batch limit it exceeds."
            ),
        },
        tags=["STR"],
    )
    def post(self, request):
        serializer = StrBatchRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        if upload.size > MAX_BATCH_BYTES:
            return Response(
                {"file": [f"the file is {upload.size:,} bytes; the limit is {MAX_BATCH_BYTES:,} bytes"]},
                status=400,
            )
        try:
            samples = read_batch(upload.read(), upload.name)
        except BatchError as error:
            return Response({"file": error.problems}, status=400)
        results = run_batch(samples, user=request.user, **_search_parameters(data))
        if data["output"] == "csv":
            response = HttpResponse(batch_csv(results, data["algorithm"]), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="str-batch-results.csv"'
            return response
        return Response({"results": results})


urlpatterns = [
    path("str/search/", StrSearchView.as_view(), name="api-str-search"),
    path("str/compare/", StrCompareView.as_view(), name="api-str-compare"),
    path("str/batch/", StrBatchView.as_view(), name="api-str-batch"),
]
