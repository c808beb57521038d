from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from donors.models import Consent, Donor, Variant
from lines.models import CellLine


class ConsentInline(admin.StackedInline):
    model = Consent
    extra = 0
    filter_horizontal = ["codes"]


class DonorVariantInline(admin.TabularInline):
    model = Variant
    fk_name = "donor"
    extra = 0
    exclude = ["line"]


class DonorLineInline(admin.TabularInline):
    model = CellLine
    extra = 0
    fields = ["name", "status", "availability", "modification_type", "qc_status"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False


@admin.register(Donor)
class DonorAdmin(SimpleHistoryAdmin):
    list_display = [
        "code",
        "institution",
        "sex",
        "age_at_sampling",
        "ancestry",
        "disease_label",
        "family_history",
    ]
    list_filter = ["sex", "ancestry", "family_history", "onset_site", "institution"]
    search_fields = ["code", "disease", "disease_label", "variants__gene"]
    inlines = [ConsentInline, DonorVariantInline, DonorLineInline]
    list_select_related = ["institution"]


@admin.register(Consent)
class ConsentAdmin(SimpleHistoryAdmin):
    list_display = ["donor", "genetic_data", "obtained_on", "withdrawn_on"]
    list_filter = ["genetic_data", "recontact", "codes"]
    search_fields = ["donor__code"]
    filter_horizontal = ["codes"]


@admin.register(Variant)
class VariantAdmin(SimpleHistoryAdmin):
    list_display = [
        "gene",
        "protein",
        "hgvs",
        "zygosity",
        "classification",
        "origin",
        "donor",
        "line",
    ]
    list_filter = ["origin", "zygosity", "classification", "gene"]
    search_fields = ["gene", "hgvs", "protein", "legacy_name", "donor__code", "line__name"]
    raw_id_fields = ["donor", "line"]
