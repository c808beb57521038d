"""Input and output shapes of the results API (their class names are the OpenAPI components)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from donors.disclosure import shares_results_of
from results.models import Assay, Dataset, DatasetFile, DepositFormat, DoseResponseFit, Measurement


class DatasetLineSerializer(serializers.Serializer):
    line = serializers.CharField(help_text="Catalog line name")
    lot = serializers.CharField(allow_blank=True)


class DatasetFileSerializer(serializers.ModelSerializer):
    class Meta:
        model = DatasetFile
        fields = ["name", "sha256", "size", "media_type", "role"]


class FindingSerializer(serializers.Serializer):
    rule = serializers.CharField()
    severity = serializers.ChoiceField(choices=["error", "warning"])
    location = serializers.CharField(allow_blank=True, help_text="JSON pointer, or the table's row and column")
    pointer = serializers.CharField(required=False, allow_blank=True)
    message = serializers.CharField()
    line = serializers.CharField(allow_null=True)


class ProtocolSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    version = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)


class DatasetSummarySerializer(serializers.ModelSerializer):
    institution = serializers.CharField(source="institution.name", default=None, allow_null=True)
    embargoed = serializers.SerializerMethodField()
    line_count = serializers.IntegerField(help_text="Lines in the dataset")

    class Meta:
        model = Dataset
        fields = [
            "id",
            "title",
            "assay",
            "status",
            "institution",
            "cell_type",
            "cell_type_label",
            "performed_on",
            "licence",
            "embargo_until",
            "embargoed",
            "line_count",
            "created_at",
            "released_at",
        ]

    def get_embargoed(self, obj) -> bool:
        return obj.is_embargoed()


class DatasetSerializer(DatasetSummarySerializer):
    protocol = serializers.SerializerMethodField()
    lines = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()
    findings = serializers.SerializerMethodField()
    data_shown = serializers.SerializerMethodField(
        help_text="False while an embargo (or the dataset's state) shows its metadata only."
    )
    withdrawn_donor = serializers.SerializerMethodField(
        help_text="A donor of one of its lines withdrew consent: kept, marked, out of public view."
    )
    measurement_count = serializers.SerializerMethodField()
    decision_reason = serializers.CharField()

    class Meta(DatasetSummarySerializer.Meta):
        fields = [
            *DatasetSummarySerializer.Meta.fields,
            "description",
            "protocol",
            "lines",
            "files",
            "format",
            "document_sha256",
            "findings",
            "error_count",
            "warning_count",
            "data_shown",
            "withdrawn_donor",
            "measurement_count",
            "decision_reason",
        ]

    def _shown(self, obj):
        return obj.data_visible_to(self.context.get("user"))

    @extend_schema_field(ProtocolSerializer)
    def get_protocol(self, obj):
        return {"name": obj.protocol_name, "version": obj.protocol_version, "url": obj.protocol_url}

    @staticmethod
    def _line_items(obj):
        return [{"line": item.line.name, "lot": item.lot} for item in obj.line_items.all()]

    @extend_schema_field(DatasetLineSerializer(many=True))
    def get_lines(self, obj):
        return DatasetLineSerializer(self._line_items(obj), many=True).data

    @extend_schema_field(DatasetFileSerializer(many=True))
    def get_files(self, obj):
        return DatasetFileSerializer(obj.files.all(), many=True).data if self._shown(obj) else []

    @extend_schema_field(FindingSerializer(many=True))
    def get_findings(self, obj):
        # The validation report is the depositor's, their institution's and the curators'.
        user = self.context.get("user")
        mine = user is not None and user.pk == obj.depositor_id
        if not (mine or shares_results_of(user, obj.institution_id)):
            return []
        return [{"pointer": "", **f, "line": f.get("line")} for f in obj.findings]

    def get_data_shown(self, obj) -> bool:
        return self._shown(obj)

    def get_withdrawn_donor(self, obj) -> bool:
        return any(
            item.line.donor_id and getattr(getattr(item.line.donor, "consent", None), "withdrawn_on", None)
            for item in obj.line_items.all()
        )

    def get_measurement_count(self, obj) -> int:
        return obj.measurements.count() if self._shown(obj) else 0


class MeasurementSerializer(serializers.ModelSerializer):
    line = serializers.CharField(source="line.name")

    class Meta:
        model = Measurement
        fields = [
            "line",
            "readout",
            "value",
            "unit",
            "replicate",
            "well",
            "compound",
            "concentration",
            "concentration_unit",
            "time_point",
            "time_unit",
        ]


class FitSerializer(serializers.ModelSerializer):
    line = serializers.CharField(source="line.name")

    class Meta:
        model = DoseResponseFit
        fields = [
            "line",
            "compound",
            "status",
            "ec50_um",
            "ec50_ci_low_um",
            "ec50_ci_high_um",
            "hill",
            "top",
            "bottom",
            "r_squared",
            "points",
            "message",
        ]


class DepositSerializer(serializers.Serializer):
    """A multipart deposit: the measurement table (CSV or XLSX) with its metadata, or a
    JSON document as a file; and the dataset's files."""

    assay = serializers.ChoiceField(choices=Assay.choices)
    format = serializers.ChoiceField(choices=DepositFormat.choices)
    metadata = serializers.JSONField(
        required=False, help_text="Title, protocol, cell_type, performed_on, licence, embargo_until, lines (JSON)"
    )
    document = serializers.FileField(required=False, help_text="The measurement table, or the JSON document")
    files = serializers.ListField(child=serializers.FileField(), required=False, help_text="The dataset's files")
    protocol_document = serializers.FileField(required=False, help_text="The protocol followed, as a document")


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class WaiverSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, help_text="Why the return of derived data is waived")


class ComparisonGroupSerializer(serializers.Serializer):
    group = serializers.CharField()
    n = serializers.IntegerField()
    median = serializers.FloatField(allow_null=True)
    q1 = serializers.FloatField(allow_null=True)
    q3 = serializers.FloatField(allow_null=True)
    min = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)
    too_small = serializers.BooleanField(help_text="n below the minimum: shown, not tested")
    points = serializers.ListField(child=serializers.DictField())


class ComparisonTestSerializer(serializers.Serializer):
    name = serializers.CharField(allow_null=True)
    statistic = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True)
    effect_size = serializers.FloatField(allow_null=True)
    effect_size_name = serializers.CharField(required=False)
    groups = serializers.ListField(child=serializers.CharField(), required=False)
    note = serializers.CharField(allow_blank=True)


class ComparisonSerializer(serializers.Serializer):
    readout = serializers.DictField()
    grouping = serializers.CharField()
    grouping_label = serializers.CharField()
    minimum_group_size = serializers.IntegerField()
    groups = ComparisonGroupSerializer(many=True, required=False)
    pairs = serializers.ListField(child=serializers.DictField(), required=False)
    differences = serializers.DictField(required=False)
    too_small = serializers.BooleanField(required=False)
    test = ComparisonTestSerializer()


class ReadoutSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()


class AssaySerializer(serializers.Serializer):
    assay = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    files_only = serializers.BooleanField()
    columns = serializers.ListField(child=serializers.DictField())
