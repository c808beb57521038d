from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from donors.models import Variant
from lines.models import CellLine, ProtocolVersion, QCRecord, ReferenceProfile, Submission


class QCInline(admin.TabularInline):
    model = QCRecord
    extra = 0
    fields = ["test", "method", "result", "passage", "tested_on", "testing_lab", "document"]


class LineVariantInline(admin.TabularInline):
    model = Variant
    fk_name = "line"
    extra = 0
    exclude = ["donor"]


@admin.register(CellLine)
class CellLineAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "donor",
        "institution",
        "status",
        "availability",
        "modification_type",
        "qc_status",
    ]
    list_filter = [
        "status",
        "availability",
        "qc_status",
        "modification_type",
        "reprogramming_method",
        "institution",
    ]
    search_fields = [
        "name",
        "cellosaurus_accession",
        "alternative_names",
        "donor__code",
        "variants__gene",
        "donor__variants__gene",
    ]
    raw_id_fields = ["donor", "parental_line", "submission"]
    list_select_related = ["donor", "institution"]
    inlines = [QCInline, LineVariantInline]


@admin.register(QCRecord)
class QCRecordAdmin(SimpleHistoryAdmin):
    list_display = ["line", "test", "method", "result", "tested_on"]
    list_filter = ["test", "result"]
    search_fields = ["line__name", "method", "testing_lab"]
    raw_id_fields = ["line"]


@admin.register(ReferenceProfile)
class ReferenceProfileAdmin(admin.ModelAdmin):
    list_display = ["accession", "name", "category", "species"]
    list_filter = ["category"]
    search_fields = ["accession", "name", "synonyms"]


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(admin.ModelAdmin):
    list_display = ["identifier", "number", "published_on"]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "institution",
        "depositor",
        "status",
        "error_count",
        "warning_count",
        "created_at",
    ]
    list_filter = ["status", "format", "institution"]
    search_fields = ["id", "depositor__username", "original_filename"]
    readonly_fields = ["findings", "created_at", "updated_at"]
