"""Stock in the admin: locations are managed here or on the stock page; lots and vials
are shown read-mostly, because their status changes go through stock.actions (which
keep the history and the lines' stock blocks)."""

from django.contrib import admin

from stock.models import Location, Lot, StockEvent, Vial


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "rows", "columns")
    list_filter = ("kind",)
    search_fields = ("code", "name")


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ("line", "code", "lot_type", "status", "qc_status", "frozen_on")
    list_filter = ("status", "lot_type", "qc_status")
    search_fields = ("line__name", "code", "accession")
    readonly_fields = ("status", "status_reason", "qc_status", "coa_sha256", "qc_records")
    raw_id_fields = ("line",)


@admin.register(Vial)
class VialAdmin(admin.ModelAdmin):
    list_display = ("identifier", "lot", "status", "location", "row", "column")
    list_filter = ("status",)
    search_fields = ("identifier", "lot__line__name", "lot__code")
    readonly_fields = ("status", "location", "row", "column", "received", "updated_at")
    raw_id_fields = ("lot",)


@admin.register(StockEvent)
class StockEventAdmin(admin.ModelAdmin):
    list_display = ("at", "action", "actor", "lot", "reason")
    list_filter = ("action",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
