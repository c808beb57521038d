from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from donors.models import Variant
from lines.models import CellLine, ProtocolVersion, QCRecord, ReferenceProfile, Submission
from lines.str.store import REFERENCE, reindex, unindex


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
    """A reference's STR index entry is the search's copy of it (the search names its
    hits from the entry, lines.str.search): every edit re-indexes it, every deletion
    takes it out, in the admin's transaction."""

    list_display = ["accession", "name", "category", "species"]
    list_filter = ["category"]
    search_fields = ["accession", "name", "synonyms"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        reindex(REFERENCE, obj)

    def delete_model(self, request, obj):
        unindex(REFERENCE, [obj.pk])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        unindex(REFERENCE, list(queryset.values_list("pk", flat=True)))
        super().delete_queryset(request, queryset)


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
    # The findings are never rendered whole (a report may hold tens of thousands):
    # the first ones here, every one a page at a time on the submission's page.
    exclude = ["findings"]
    readonly_fields = ["report", "created_at", "updated_at"]
    ADMIN_FINDINGS = 50

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.resolver_match.url_name.endswith("_change") else queryset.defer("findings")

    @admin.display(description="Report")
    def report(self, obj):
        findings = obj.findings or []
        items = format_html_join(
            "",
            "<li><code>{}</code> {} at {}: {}</li>",
            (
                (f.get("rule", ""), f.get("severity", ""), f.get("location") or "—", f.get("message", ""))
                for f in findings[: self.ADMIN_FINDINGS]
            ),
        )
        more = len(findings) - self.ADMIN_FINDINGS
        return format_html(
            '<p>{} errors, {} warnings. <a href="{}">Every finding, page by page</a>.</p><ul>{}</ul>{}',
            obj.error_count,
            obj.warning_count,
            reverse("submission-detail", args=[obj.pk]),
            items,
            format_html("<p>… and {} more.</p>", more) if more > 0 else "",
        )
