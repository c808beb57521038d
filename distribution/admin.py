from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from distribution.models import DistributionRequest, RequestedLine, RequestEvent, Shipment


class RequestedLineInline(admin.TabularInline):
    model = RequestedLine
    extra = 0
    raw_id_fields = ["line", "decided_by"]
    fields = [
        "line",
        "vials",
        "eligibility",
        "decision",
        "decision_reason",
        "decided_by",
        "decided_at",
    ]
    readonly_fields = ["eligibility", "decided_by", "decided_at"]


class RequestEventInline(admin.TabularInline):
    """The request's log: written only by the workflow methods, so read-only here."""

    model = RequestEvent
    extra = 0
    can_delete = False
    fields = ["at", "action", "actor", "from_status", "to_status", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ShipmentInline(admin.TabularInline):
    model = Shipment
    extra = 0
    raw_id_fields = ["line", "recorded_by"]


@admin.register(DistributionRequest)
class DistributionRequestAdmin(SimpleHistoryAdmin):
    list_display = [
        "id",
        "requester",
        "organisation",
        "organisation_type",
        "status",
        "on_hold",
        "created_at",
    ]
    list_filter = ["status", "organisation_type", "commercial", "on_hold"]
    search_fields = [
        "requester__username",
        "organisation",
        "agreement_reference",
        "items__line__name",
    ]
    raw_id_fields = ["requester", "curator"]
    # State moves only through the workflow methods (request page or API), which
    # check who and from where and tell the requester; the admin shows it.
    readonly_fields = [
        "status",
        "on_hold",
        "hold_reason",
        "curator",
        "submitted_at",
        "decided_at",
        "completed_on",
        "accepted_conditions",
    ]
    inlines = [RequestedLineInline, ShipmentInline, RequestEventInline]


@admin.register(Shipment)
class ShipmentAdmin(SimpleHistoryAdmin):
    list_display = ["request", "line", "shipped_on", "vials", "batch"]
    search_fields = ["line__name", "batch", "courier_reference"]
    raw_id_fields = ["request", "line", "recorded_by"]
