"""/api/v1/ endpoints of distribution: eligibility, requests and their transitions, withdrawals.

Views parse, look up with visible_to(user), call one model method or workflow
function, and answer. Refusals from the workflow map to HTTP: WorkflowError
subclasses carry their status (400 bad input, 403 not your role, 409 not from
this state); a request the caller may not see is a 404, never a 403, so its
existence does not leak.
"""

import django_filters as filters
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import (
    AUTHENTICATION_CLASSES,
    RENDERER_CLASSES,
    KeysetPagination,
    StrictDjangoFilterBackend,
    reject_unknown_params,
)
from core.models import DiseaseTerm, DuoTerm
from core.roles import is_curator
from distribution.actions import MAX_VIALS_PER_LINE, create_request
from distribution.eligibility import Purpose, PurposeError, check_purpose, evaluate_lines
from distribution.models import (
    DistributionRequest,
    LineDecision,
    RequestedLine,
    RequestEvent,
    RequestStatus,
    Shipment,
    WorkflowError,
)
from lines.holdings.filters import BoolFilter
from lines.models import CellLine

MAX_LINES_PER_CALL = 500

# --- serializers -----------------------------------------------------------------


class DistributionErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# A 400 is either a workflow refusal ({"detail", "problems"}) or input validation
# ({"<field>": ["message", ...]}, nested for nested fields): one schema admits both.
BAD_INPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What was refused and why."},
        "problems": {"type": "object", "additionalProperties": {},
                     "description": "Field or line → what is wrong with it."},
    },
    "additionalProperties": {},
    "example": {"lines": ["Unknown line: UKBi999-Z"], "purpose.codes": ["Unknown DUO code: DUO:9999999"]},
}


def error_responses(*codes):
    text = {
        400: ("Bad input: `detail` and `problems` for a refused action, or one key per field at "
              "fault with its messages.", BAD_INPUT_SCHEMA),
        401: ("Credentials are missing or invalid.", DistributionErrorSerializer),
        403: ("Your role may not take this action on this request.", DistributionErrorSerializer),
        404: ("No such request, or not visible to you.", DistributionErrorSerializer),
        409: ("The request's current state does not allow this action (e.g. shipping before the "
              "agreement, or acting on a request on hold).", DistributionErrorSerializer),
    }
    return {code: OpenApiResponse(text[code][1], description=text[code][0]) for code in codes}


class ResearchPurposeSerializer(serializers.Serializer):
    codes = serializers.ListField(
        child=serializers.CharField(max_length=20), allow_empty=False,
        help_text="DUO CURIEs of the research purpose: DUO:0000042 (GRU), DUO:0000006 (HMB), "
                  "DUO:0000007 (DS, with a disease), DUO:0000011 (POA).",
    )
    disease = serializers.CharField(
        max_length=20, allow_null=True, allow_blank=True, required=False, default=None,
        help_text="MONDO id of the disease studied, for a disease-specific purpose.",
    )


class PurposeInputMixin(serializers.Serializer):
    purpose = ResearchPurposeSerializer()
    commercial = serializers.BooleanField(default=False)
    organisation_type = serializers.ChoiceField(
        choices=["academic", "non_profit", "commercial"], required=False,
        help_text="Defaults to the caller's profile (academic when anonymous).",
    )


class EligibilityInputSerializer(PurposeInputMixin):
    lines = serializers.ListField(child=serializers.CharField(max_length=40), allow_empty=False,
                                  max_length=MAX_LINES_PER_CALL)


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
    lines = serializers.ListField(child=serializers.CharField(max_length=40), allow_empty=False,
                                  max_length=MAX_LINES_PER_CALL)
    vials = serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=MAX_VIALS_PER_LINE),
                                  required=False, help_text="Line name → vials (default 1 each).")
    organisation = serializers.CharField(max_length=200, required=False, allow_blank=True)
    purpose_summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    accepted_conditions = serializers.ListField(child=serializers.CharField(max_length=20), required=False)


class RequestedLineSerializer(serializers.Serializer):
    line = serializers.CharField(source="line.name")
    vials = serializers.IntegerField()
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
    courier_reference = serializers.CharField()
    received_on = serializers.DateField(allow_null=True)


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
        child=serializers.CharField(max_length=20), required=False,
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
    courier_reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ShipRequestSerializer(serializers.Serializer):
    shipments = ShipmentRecordSerializer(many=True, allow_empty=False)


class ConsentWithdrawalInputSerializer(serializers.Serializer):
    donor = serializers.CharField(max_length=20, help_text="The donor's public code.")
    reason = serializers.CharField(max_length=5000)
    withdrawn_on = serializers.DateField(required=False, allow_null=True, default=None,
                                         help_text="Defaults to today.")


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


# --- helpers ---------------------------------------------------------------------


def parse_purpose(data, user):
    """A Purpose from validated input; 400 naming unknown DUO codes or diseases."""
    purpose_data = data["purpose"]
    codes = list(dict.fromkeys(purpose_data["codes"]))
    known = set(DuoTerm.objects.filter(curie__in=codes).values_list("curie", flat=True))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValidationError({"purpose.codes": [f"Unknown DUO code: {c}" for c in unknown]})
    organisation_type = data.get("organisation_type")
    if organisation_type is None:
        profile = getattr(user, "profile", None) if user.is_authenticated else None
        organisation_type = profile.organisation_type if profile else "academic"
    disease = purpose_data.get("disease") or None
    purpose = Purpose(frozenset(codes), disease, data["commercial"], organisation_type)
    known_diseases = set(DiseaseTerm.objects.filter(curie=disease).values_list("curie", flat=True))
    try:
        check_purpose(purpose, known_diseases=known_diseases)
    except PurposeError as error:
        raise ValidationError({k: [v] for k, v in error.problems.items()}) from error
    return purpose


def lines_by_name(user, names):
    """Visible lines in the order named; 400 naming every unknown (or invisible) name."""
    names = list(dict.fromkeys(names))
    found = {line.name: line for line in CellLine.objects.visible_to(user).filter(name__in=names)}
    unknown = [n for n in names if n not in found]
    if unknown:
        raise ValidationError({"lines": [f"Unknown line: {n}" for n in unknown]})
    return [found[n] for n in names]


def purpose_and_lines(data, user):
    """Both checks at once, so one 400 names every unknown line, code and disease."""
    errors, purpose, lines = {}, None, None
    try:
        purpose = parse_purpose(data, user)
    except ValidationError as error:
        errors.update(error.detail)
    try:
        lines = lines_by_name(user, data["lines"])
    except ValidationError as error:
        errors.update(error.detail)
    if errors:
        raise ValidationError(errors)
    return purpose, lines


def request_queryset(user):
    return DistributionRequest.objects.visible_to(user).select_related("requester", "curator").prefetch_related(
        Prefetch("items", queryset=RequestedLine.objects.select_related("line").order_by("id")),
        Prefetch("shipments", queryset=Shipment.objects.select_related("line")),
        Prefetch("events", queryset=RequestEvent.objects.select_related("actor")),
    )


def request_body(request_obj):
    request_obj.required_conditions_list = request_obj.required_conditions()
    return DistributionRequestSerializer(request_obj).data


class WorkflowErrorsMixin:
    """Maps workflow refusals to their HTTP status; the catalog's API conventions."""

    authentication_classes = AUTHENTICATION_CLASSES
    renderer_classes = RENDERER_CLASSES
    permission_classes = [permissions.IsAuthenticated]

    def handle_exception(self, exc):
        if isinstance(exc, WorkflowError):
            body = {"detail": exc.message}
            if exc.problems:
                body["problems"] = exc.problems
            return Response(body, status=exc.status_code)
        return super().handle_exception(exc)


class DistributionAPIView(WorkflowErrorsMixin, APIView):
    pass


class RequestFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=RequestStatus.choices, distinct=False,
                                          help_text="Only these statuses (repeatable).")
    on_hold = BoolFilter(field_name="on_hold", help_text="Only requests on hold (true) or not (false).")

    class Meta:
        model = DistributionRequest
        fields = []


# --- eligibility -------------------------------------------------------------------


class EligibilityView(DistributionAPIView):
    # Creates nothing and shows only lines the caller may see, so anyone may ask.
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="eligibility_check",
        summary="May this purpose use these lines? (creates nothing)",
        description="For each line: APPROVE, DENY or ABSTAIN (a curator decides) under its donor's consent "
                    "(GA4GH DUO), with reasons (each with its DUO CURIE) and the conditions you would "
                    "accept in the agreement. Unknown lines, DUO codes or MONDO ids are a 400 naming "
                    "them; lines you may not see count as unknown.",
        request=EligibilityInputSerializer,
        responses={200: EligibilityOutputSerializer, **error_responses(400)},
        tags=["distribution"],
    )
    def post(self, request):
        data = EligibilityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        purpose, lines = purpose_and_lines(data.validated_data, request.user)
        results = evaluate_lines(lines, purpose)
        return Response({"results": [r.as_dict() for r in results]})


# --- requests ----------------------------------------------------------------------


class RequestListView(WorkflowErrorsMixin, generics.GenericAPIView):
    filter_backends = [StrictDjangoFilterBackend]
    filterset_class = RequestFilter
    pagination_class = KeysetPagination
    ordering_fields = {"created_at": "created_at", "submitted_at": "submitted_at", "id": "pk"}
    default_ordering = ("-created_at",)

    def get_serializer_class(self):
        # Also what OPTIONS describes: the create input for POST, the summary otherwise.
        if self.request is not None and self.request.method == "POST":
            return DistributionRequestCreateSerializer
        return DistributionRequestSummarySerializer

    def get_queryset(self):
        return DistributionRequest.objects.visible_to(self.request.user).select_related("requester").annotate(
            line_count=Count("items")
        )

    @extend_schema(
        operation_id="requests_list",
        summary="Distribution requests: your own, or all for curators",
        responses={200: DistributionRequestSummarySerializer(many=True), **error_responses(400, 401)},
        tags=["distribution"],
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(DistributionRequestSummarySerializer(page, many=True).data)

    @extend_schema(
        operation_id="requests_create",
        summary="Create a draft request (researchers and depositors)",
        description="Every line is judged against its donor's consent at once; a line your purpose "
                    "may not use (DENY) is refused with a 400 naming it. Submit the draft with "
                    "`requests/{id}/submit/`.",
        request=DistributionRequestCreateSerializer,
        responses={201: DistributionRequestSerializer, **error_responses(400, 401, 403)},
        tags=["distribution"],
    )
    def post(self, request):
        data = DistributionRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        purpose, lines = purpose_and_lines(values, request.user)
        vials = values.get("vials") or {}
        stray = sorted(set(vials) - {line.name for line in lines})
        if stray:
            raise ValidationError({"vials": [f"Not a requested line: {n}" for n in stray]})
        created = create_request(
            request.user, lines, purpose_codes=purpose.codes, purpose_disease=purpose.disease,
            commercial=purpose.commercial, organisation_type=purpose.organisation_type,
            organisation=values.get("organisation", ""), purpose_summary=values.get("purpose_summary", ""),
            vials=vials, accepted_conditions=values.get("accepted_conditions", ()),
        )
        return Response(request_body(request_queryset(request.user).get(pk=created.pk)),
                        status=status.HTTP_201_CREATED)


class RequestDetailView(DistributionAPIView):
    @extend_schema(operation_id="requests_retrieve", summary="One request with its lines, shipments and history",
                   responses={200: DistributionRequestSerializer, **error_responses(401, 404)}, tags=["distribution"])
    def get(self, request, pk):
        return Response(request_body(get_object_or_404(request_queryset(request.user), pk=pk)))


class TransitionView(DistributionAPIView):
    """POST requests/{id}/<action>/: one workflow step."""

    input_serializer = TransitionReasonSerializer
    action = None

    def perform(self, request_obj, user, data):
        raise NotImplementedError

    def post(self, request, pk):
        request_obj = get_object_or_404(DistributionRequest.objects.visible_to(request.user), pk=pk)
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.perform(request_obj, request.user, data.validated_data)
        return Response(request_body(request_queryset(request.user).get(pk=pk)))


def transition(name, summary, description, input_serializer, perform, codes=(400, 401, 403, 404, 409)):
    """A TransitionView subclass with its own documented `post` (a fresh function, so the
    schema annotation of one action never overwrites another's)."""

    def post(self, request, pk):
        return TransitionView.post(self, request, pk)

    post = extend_schema(
        operation_id=f"requests_{name.replace('-', '_')}",
        summary=summary, description=description,
        request=None if input_serializer is EmptyInputSerializer else input_serializer,
        responses={200: DistributionRequestSerializer, **error_responses(*codes)}, tags=["distribution"],
    )(post)
    return type(
        f"{name.title().replace('-', '')}TransitionView",
        (TransitionView,),
        {"input_serializer": input_serializer, "perform": staticmethod(perform), "post": post},
    )


SubmitView = transition(
    "submit", "Submit a draft (requester)",
    "Judges every line again; refuses DENY lines and conditions not accepted (400). From draft only (409).",
    SubmitRequestSerializer, lambda r, u, d: r.submit(u, accepted_conditions=d.get("accepted_conditions")),
)
StartReviewView = transition(
    "start-review", "Start reviewing (curator)", "From submitted to under review.",
    EmptyInputSerializer, lambda r, u, d: r.start_review(u),
)
DecideLineView = transition(
    "decide-line", "Approve or reject one line (curator)",
    "A rejection needs a reason, and so does approving a line whose consent needed a curator's "
    "judgement (ABSTAIN). Allowed while submitted or under review.",
    LineDecisionSerializer, lambda r, u, d: r.decide_line(u, d["line"], d["decision"], d["reason"]),
)
ApproveView = transition(
    "approve", "Approve the request (curator)",
    "Pending lines the consent allows are approved with it; ABSTAIN lines must be decided first (400).",
    TransitionReasonSerializer, lambda r, u, d: r.approve(u, d["reason"]),
)
RejectView = transition(
    "reject", "Reject the request (curator), with a reason",
    "Possible at any point before shipment.", TransitionRequiredReasonSerializer,
    lambda r, u, d: r.reject(u, d["reason"]),
)
AgreementView = transition(
    "agreement", "Record the executed material transfer agreement (curator)",
    "From approved to agreement executed.", AgreementRecordSerializer,
    lambda r, u, d: r.record_agreement(u, d["reference"], d["executed_on"], d["sent_on"]),
)
ShipView = transition(
    "ship", "Record the shipment (curator)",
    "Per approved line: date, vials, batch and passage. From agreement executed to shipped.",
    ShipRequestSerializer, lambda r, u, d: r.ship(u, d["shipments"]),
)
CompleteView = transition(
    "complete", "Confirm receipt / close (requester or curator)", "From shipped to completed.",
    TransitionReasonSerializer, lambda r, u, d: r.complete(u, d["reason"]),
)
CancelView = transition(
    "cancel", "Cancel (requester, or a curator with a reason)", "Possible at any point before shipment.",
    TransitionReasonSerializer, lambda r, u, d: r.cancel(u, d["reason"]),
)
HoldView = transition(
    "hold", "Put on hold (curator), with a reason", "Blocks every step but reject and cancel until released.",
    TransitionRequiredReasonSerializer, lambda r, u, d: r.put_on_hold(u, d["reason"]),
)
ReleaseHoldView = transition(
    "release-hold", "Release a hold (curator)",
    "Lines that may no longer be distributed must be rejected first (400).",
    TransitionReasonSerializer, lambda r, u, d: r.release_hold(u, d["reason"]),
)


# --- withdrawal ---------------------------------------------------------------------


class CuratorOnly(permissions.BasePermission):
    message = "Only curators may withdraw consent or lines and see who holds material."

    def has_permission(self, request, view):
        return is_curator(request.user)


class ConsentWithdrawalView(DistributionAPIView):
    permission_classes = [permissions.IsAuthenticated, CuratorOnly]

    @extend_schema(
        operation_id="withdrawals_consent",
        summary="Record a donor's withdrawal of consent (curator)",
        description="In one transaction: consent marked withdrawn, the donor's lines withdrawn and not "
                    "distributed, open requests for them put on hold; then requesters and past "
                    "recipients are e-mailed. Answers who holds material.",
        request=ConsentWithdrawalInputSerializer,
        responses={200: WithdrawalReportSerializer, **error_responses(400, 401, 403, 404, 409)},
        tags=["distribution"],
    )
    def post(self, request):
        from distribution.withdrawal import withdraw_consent
        from donors.models import Donor

        data = ConsentWithdrawalInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        donor = get_object_or_404(Donor.objects.all(), code=values["donor"])
        on = values["withdrawn_on"] or timezone.localdate()
        if on > timezone.localdate():
            raise ValidationError({"withdrawn_on": ["Cannot be in the future."]})
        report = withdraw_consent(donor, by=request.user, on=on, reason=values["reason"])
        return Response(WithdrawalReportSerializer(report).data)


class LineWithdrawalView(DistributionAPIView):
    permission_classes = [permissions.IsAuthenticated, CuratorOnly]

    @extend_schema(
        operation_id="withdrawals_line",
        summary="Withdraw a line, e.g. after a failed QC (curator)",
        description="In one transaction: the line withdrawn and not distributed, open requests for it "
                    "put on hold; then requesters and past recipients are e-mailed.",
        request=LineWithdrawalInputSerializer,
        responses={200: WithdrawalReportSerializer, **error_responses(400, 401, 403, 404, 409)},
        tags=["distribution"],
    )
    def post(self, request):
        from distribution.withdrawal import withdraw_line

        data = LineWithdrawalInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = get_object_or_404(CellLine.objects.all(), name=data.validated_data["line"])
        report = withdraw_line(line, by=request.user, reason=data.validated_data["reason"])
        return Response(WithdrawalReportSerializer(report).data)


class RecipientsView(DistributionAPIView):
    permission_classes = [permissions.IsAuthenticated, CuratorOnly]

    @extend_schema(
        operation_id="withdrawals_recipients",
        summary="Who holds material of a donor or a line (curator)",
        parameters=[
            OpenApiParameter("donor", str, description="Donor code."),
            OpenApiParameter("line", str, description="Line name."),
        ],
        responses={200: MaterialRecipientSerializer(many=True), **error_responses(400, 401, 403)},
        tags=["distribution"],
    )
    def get(self, request):
        from distribution.withdrawal import recipients_holding

        reject_unknown_params(request, ("donor", "line"))
        params = RecipientsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        donor, line = params.validated_data.get("donor"), params.validated_data.get("line")
        if not donor and not line:
            raise ValidationError({"donor": ["Give a donor code or a line name (line=…)."]})
        lines = CellLine.objects.all()
        if donor:
            lines = lines.filter(donor__code=donor)
        if line:
            lines = lines.filter(name=line)
        return Response(MaterialRecipientSerializer(recipients_holding(lines), many=True).data)


urlpatterns = [
    path("eligibility/", EligibilityView.as_view(), name="api-eligibility"),
    path("requests/", RequestListView.as_view(), name="api-request-list"),
    path("requests/<int:pk>/", RequestDetailView.as_view(), name="api-request-detail"),
    path("requests/<int:pk>/submit/", SubmitView.as_view(), name="api-request-submit"),
    path("requests/<int:pk>/start-review/", StartReviewView.as_view(), name="api-request-start-review"),
    path("requests/<int:pk>/decide-line/", DecideLineView.as_view(), name="api-request-decide-line"),
    path("requests/<int:pk>/approve/", ApproveView.as_view(), name="api-request-approve"),
    path("requests/<int:pk>/reject/", RejectView.as_view(), name="api-request-reject"),
    path("requests/<int:pk>/agreement/", AgreementView.as_view(), name="api-request-agreement"),
    path("requests/<int:pk>/ship/", ShipView.as_view(), name="api-request-ship"),
    path("requests/<int:pk>/complete/", CompleteView.as_view(), name="api-request-complete"),
    path("requests/<int:pk>/cancel/", CancelView.as_view(), name="api-request-cancel"),
    path("requests/<int:pk>/hold/", HoldView.as_view(), name="api-request-hold"),
    path("requests/<int:pk>/release-hold/", ReleaseHoldView.as_view(), name="api-request-release-hold"),
    path("withdrawals/consent/", ConsentWithdrawalView.as_view(), name="api-withdraw-consent"),
    path("withdrawals/line/", LineWithdrawalView.as_view(), name="api-withdraw-line"),
    path("withdrawals/recipients/", RecipientsView.as_view(), name="api-withdrawal-recipients"),
]

