from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import DistributionRequest, RequestedLine, Shipment


class RequestedLineInline(admin.TabularInline):
    model = RequestedLine
    extra = 0
    raw_id_fields = ["line"]


class ShipmentInline(admin.TabularInline):
    model = Shipment
    extra = 0
    raw_id_fields = ["line", "recorded_by"]


@admin.register(DistributionRequest)
class DistributionRequestAdmin(SimpleHistoryAdmin):
    list_display = ["id", "requester", "organisation", "organisation_type", "status", "on_hold", "created_at"]
    list_filter = ["status", "organisation_type", "commercial", "on_hold"]
    search_fields = ["requester__username", "organisation", "agreement_reference", "items__line__name"]
    raw_id_fields = ["requester", "curator"]
    inlines = [RequestedLineInline, ShipmentInline]


@admin.register(Shipment)
class ShipmentAdmin(SimpleHistoryAdmin):
    list_display = ["request", "line", "shipped_on", "vials", "batch"]
    search_fields = ["line__name", "batch", "courier_reference"]
    raw_id_fields = ["request", "line", "recorded_by"]
