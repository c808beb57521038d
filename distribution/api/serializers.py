"""Input and output shapes of the distribution API (their class names are the OpenAPI components)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from distribution.actions.requests import MAX_VIALS_PER_LINE
from distribution.models import LineDecision
from donors.duo import PURPOSE_CODES

MAX_LINES_PER_CALL = 500


class DistributionErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# A 400 is either a workflow refusal ({"detail", "problems"}) or input validation
# ({"<field>": ["message", ...]}, nested for nested fields): one schema admits both.
BAD_INPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What was refused and why."},
        "problems": {
            "type": "object",
            "additionalProperties": {},
            "description": "Field or line → what is wrong with it.",
        },
    },
    "additionalProperties": {},
    "example": {
        "lines": ["Unknown line: UKBi999-Z"],
        "purpose.codes": ["Unknown DUO code: DUO:9999999"],
    },
}


@extend_schema_field({"type": "string", "enum": list(PURPOSE_CODES)})
class PurposeCodeField(serializers.CharField):
    """A DUO research-purpose code; the schema lists the ones accepted (donors.duo.PURPOSE_CODES).
    Checked by donors.duo.check_purpose, whose refusal says which purposes there are."""


class ResearchPurposeSerializer(serializers.Serializer):
    codes = serializers.ListField(
        child=PurposeCodeField(max_length=20),
        allow_empty=False,
        help_text="DUO CURIEs of the research purpose: DUO:0000042 (GRU), DUO:0000006 (HMB), "
        "DUO:0000007 (DS, with a disease), DUO:0000011 (POA).",
    )
    disease = serializers.CharField(
        max_length=20,
        allow_null=True,
        allow_blank=True,
        required=False,
        default=None,
        help_text="MONDO id of the disease studied, for a disease-specific purpose.",
    )


class PurposeInputMixin(serializers.Serializer):
    purpose = ResearchPurposeSerializer()
    commercial = serializers.BooleanField(default=False)
    organisation_type = serializers.ChoiceField(
        choices=["academic", "non_profit", "commercial"],
        required=False,
        help_text="Defaults to the caller's profile (academic when anonymous).",
    )


class EligibilityInputSerializer(PurposeInputMixin):
    lines = serializers.ListField(
        child=serializers.CharField(max_length=40), allow_empty=False, max_length=MAX_LINES_PER_CALL
    )


class EligibilityReasonSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The DUO CURIE the reason comes from (empty when none).")
    text = serializers.CharField()


class ConsentConditionSerializer(serializers.Serializer):
    code = serializers.CharField()
    shorthand = serializers.CharField()
    text = serializers.CharField()
    curator_checks = serializers.BooleanField(help_text="True when a curator must check it (ABSTAIN).")


class EligibilityResultSerializer(serializers.Serializer):
    line = serializers.CharField()
    decision = serializers.ChoiceField(choices=["APPROVE", "DENY", "ABSTAIN"])
    reasons = EligibilityReasonSerializer(many=True)
    conditions = ConsentConditionSerializer(many=True)


class EligibilityOutputSerializer(serializers.Serializer):
    results = EligibilityResultSerializer(many=True)


class DistributionRequestCreateSerializer(PurposeInputMixin):
    lines = serializers.ListField(
        child=serializers.CharField(max_length=40), allow_empty=False, max_length=MAX_LINES_PER_CALL
    )
    vials = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_VIALS_PER_LINE),
        required=False,
        help_text="Line name → vials (default 1 each).",
    )
    lots = serializers.DictField(
        child=serializers.CharField(max_length=40, allow_blank=True),
        required=False,
        help_text="Line name → code of the released lot wanted (it must have vials in stock); "
        "a line not named gets the oldest released lot first. The line's lots are in /api/v1/lots/?line=<name>.",
    )
    organisation = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Default: your institution's name."
    )
    shipping_address = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    purpose_summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    accepted_conditions = serializers.ListField(child=serializers.CharField(max_length=20), required=False)


class RequestedVialSerializer(serializers.Serializer):
    vial = serializers.CharField(help_text="The vial's identifier (BioSamples accession or minted).")
    lot = serializers.CharField(help_text="Code of the vial's lot.")
    status = serializers.CharField(help_text="reserved, shipped, quarantined (recalled lot), …")
    status_label = serializers.CharField()
    shipped_on = serializers.DateField(allow_null=True)
    received_on = serializers.DateField(allow_null=True, help_text="When the recipient confirmed its receipt.")
    # Absent for everyone but curators (a missing key is skipped, never null-filled).
    location = serializers.CharField(required=False, help_text="Curators only: the box the vial is in (null: left).")
    position = serializers.CharField(required=False, help_text="Curators only: the well, e.g. B3.")


class RequestedLineSerializer(serializers.Serializer):
    line = serializers.CharField(source="line.name")
    vials = serializers.IntegerField()
    lot = serializers.CharField(
        source="lot.code", allow_null=True, default=None, help_text="The lot asked for (null: oldest released first)."
    )
    vials_reserved = RequestedVialSerializer(
        many=True, default=list, help_text="The vials set aside or shipped for this line, with their lot and status."
    )
    eligibility = serializers.CharField()
    eligibility_reasons = EligibilityReasonSerializer(many=True)
    conditions = ConsentConditionSerializer(many=True)
    decision = serializers.CharField()
    decision_reason = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)


class DistributionShipmentSerializer(serializers.Serializer):
    line = serializers.CharField(source="line.name")
    shipped_on = serializers.DateField()
    vials = serializers.IntegerField()
    batch = serializers.CharField()
    passage = serializers.IntegerField(allow_null=True)
    courier = serializers.CharField()
    courier_reference = serializers.CharField(help_text="The courier's tracking number.")
    received_on = serializers.DateField(allow_null=True)
    vials_shipped = serializers.SerializerMethodField(help_text="Identifiers of the vials that left (stock).")

    def get_vials_shipped(self, shipment) -> list[str]:
        return [r.vial.identifier for r in shipment.reserved_vials.all()]

    certificates = serializers.SerializerMethodField(help_text="Certificate of analysis (PDF) of each shipped lot.")

    def get_certificates(self, shipment) -> list[str]:
        lots = sorted({r.vial.lot_id for r in shipment.reserved_vials.all()})
        return [f"/api/v1/lots/{pk}/coa/" for pk in lots]


class RequestEventSerializer(serializers.Serializer):
    action = serializers.CharField()
    summary = serializers.CharField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class DistributionRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    on_hold = serializers.BooleanField()
    hold_reason = serializers.CharField()
    requester = serializers.CharField(source="requester.username")
    organisation = serializers.CharField()
    shipping_address = serializers.CharField(help_text="Shown to the requester and the curators only.")
    organisation_type = serializers.CharField()
    purpose_codes = serializers.ListField(child=serializers.CharField())
    purpose_disease = serializers.CharField()
    purpose_summary = serializers.CharField()
    commercial = serializers.BooleanField()
    required_conditions = serializers.ListField(child=serializers.CharField(), source="required_conditions_list")
    accepted_conditions = serializers.ListField(child=serializers.CharField())
    agreement_reference = serializers.CharField()
    agreement_sent_on = serializers.DateField(allow_null=True)
    agreement_executed_on = serializers.DateField(allow_null=True)
    curator = serializers.CharField(source="curator.username", allow_null=True, default=None)
    decision_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    completed_on = serializers.DateField(allow_null=True)
    lines = RequestedLineSerializer(many=True, source="items.all")
    shipments = DistributionShipmentSerializer(many=True, source="shipments.all")
    events = RequestEventSerializer(many=True, source="events.all")


class DistributionRequestSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    on_hold = serializers.BooleanField()
    requester = serializers.CharField(source="requester.username")
    organisation = serializers.CharField()
    line_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)


class EmptyInputSerializer(serializers.Serializer):
    """No fields: the action needs no input."""


class TransitionReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class TransitionRequiredReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class SubmitRequestSerializer(serializers.Serializer):
    accepted_conditions = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        help_text="DUO CURIEs of the conditions you accept; every condition of every line is needed.",
    )


class LineDecisionSerializer(serializers.Serializer):
    line = serializers.CharField(max_length=40)
    decision = serializers.ChoiceField(choices=[LineDecision.APPROVED, LineDecision.REJECTED])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class AgreementRecordSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=100)
    executed_on = serializers.DateField()
    sent_on = serializers.DateField(required=False, allow_null=True, default=None)


class ShipmentRecordSerializer(serializers.Serializer):
    line = serializers.CharField(max_length=40)
    shipped_on = serializers.DateField()
    vials = serializers.IntegerField(min_value=1, max_value=100)
    batch = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    passage = serializers.IntegerField(min_value=1, max_value=200, required=False, allow_null=True, default=None)
    courier = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    courier_reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    vial_ids = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        default=list,
        max_length=100,
        help_text="The reserved vials this shipment takes (default: as many reserved vials as it ships).",
    )


class ShipRequestSerializer(serializers.Serializer):
    shipments = ShipmentRecordSerializer(many=True, allow_empty=False)


class ConsentWithdrawalInputSerializer(serializers.Serializer):
    donor = serializers.CharField(max_length=20, help_text="The donor's public code.")
    reason = serializers.CharField(max_length=5000)
    withdrawn_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="Defaults to today.")


class LineWithdrawalInputSerializer(serializers.Serializer):
    line = serializers.CharField(max_length=40)
    reason = serializers.CharField(max_length=5000)


class MaterialRecipientSerializer(serializers.Serializer):
    line = serializers.CharField(source="line.name")
    request = serializers.IntegerField(source="request_id")
    requester = serializers.CharField(source="request.requester.username")
    email = serializers.CharField(source="request.requester.email")
    organisation = serializers.CharField(source="request.organisation")
    shipped_on = serializers.DateField()
    vials = serializers.IntegerField()
    batch = serializers.CharField()
    passage = serializers.IntegerField(allow_null=True)


class RecipientsQuerySerializer(serializers.Serializer):
    donor = serializers.CharField(max_length=20, required=False)
    line = serializers.CharField(max_length=40, required=False)


class WithdrawalReportSerializer(serializers.Serializer):
    lines = serializers.ListField(child=serializers.CharField())
    held_requests = serializers.ListField(child=serializers.IntegerField())
    recipients = MaterialRecipientSerializer(many=True)
