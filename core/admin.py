from django.contrib import admin

from core.models import CellType, DiseaseTerm, DuoTerm, Gene, Institution, Profile, WorkerHeartbeat


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country"]
    search_fields = ["code", "name", "country"]
    list_filter = ["country"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "institution", "organisation_type"]
    list_filter = ["organisation_type", "institution"]
    search_fields = ["user__username", "user__email", "institution__code"]
    autocomplete_fields = ["institution"]


@admin.register(DuoTerm)
class DuoTermAdmin(admin.ModelAdmin):
    list_display = ["curie", "shorthand", "label", "branch", "obsolete"]
    list_filter = ["branch", "obsolete"]
    search_fields = ["curie", "shorthand", "label"]


@admin.register(DiseaseTerm)
class DiseaseTermAdmin(admin.ModelAdmin):
    list_display = ["curie", "label", "obsolete"]
    list_filter = ["obsolete"]
    search_fields = ["curie", "label"]
    filter_horizontal = ["parents"]


@admin.register(Gene)
class GeneAdmin(admin.ModelAdmin):
    list_display = ["symbol", "hgnc_id", "name"]
    search_fields = ["symbol", "hgnc_id", "name"]


@admin.register(CellType)
class CellTypeAdmin(admin.ModelAdmin):
    list_display = ["curie", "label"]
    search_fields = ["curie", "label"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["label", "worker", "seen_at"]
    readonly_fields = ["label", "worker", "seen_at"]

    def has_add_permission(self, request):
        return False
