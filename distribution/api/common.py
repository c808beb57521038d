"""What every distribution endpoint shares: error answers, purpose and line parsing,
the request body, and the mapping of workflow refusals to HTTP.

Refusals from the workflow map to HTTP: WorkflowError subclasses carry their
status (400 bad input, 403 not your role, 409 not from this state); a request
the caller may not see is a 404, never a 403, so its existence does not leak.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import AUTHENTICATION_CLASSES, RENDERER_CLASSES
from core.models import DiseaseTerm, DuoTerm
from distribution.api.serializers import (
    BAD_INPUT_SCHEMA,
    DistributionErrorSerializer,
    DistributionRequestSerializer,
)
from distribution.models import (
    DistributionRequest,
    RequestedLine,
    RequestEvent,
    Shipment,
    WorkflowError,
)
from distribution.selectors import vials_of_items
from donors.duo import Purpose, PurposeError, check_purpose
from lines.models import CellLine


def error_responses(*codes):
    text = {
        400: (
            "Bad input: `detail` and `problems` for a refused action, or one key per field at fault with its messages.",
            BAD_INPUT_SCHEMA,
        ),
        401: ("Credentials are missing or invalid.", DistributionErrorSerializer),
        403: ("Your role may not take this action on this request.", DistributionErrorSerializer),
        404: ("No such request, or not visible to you.", DistributionErrorSerializer),
        409: (
            "The request's current state does not allow this action (e.g. shipping before the "
            "agreement, or acting on a request on hold).",
            DistributionErrorSerializer,
        ),
    }
    return {code: OpenApiResponse(text[code][1], description=text[code][0]) for code in codes}


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
    return (
        DistributionRequest.objects.visible_to(user)
        .select_related("requester", "curator")
        .prefetch_related(
            Prefetch("items", queryset=RequestedLine.objects.select_related("line", "lot").order_by("id")),
            Prefetch(
                "shipments", queryset=Shipment.objects.select_related("line").prefetch_related("reserved_vials__vial")
            ),
            Prefetch("events", queryset=RequestEvent.objects.select_related("actor")),
        )
    )


def request_body(request_obj, user):
    request_obj.required_conditions_list = request_obj.required_conditions()
    items = list(request_obj.items.all())
    vials = vials_of_items(items, user)
    for item in items:
        item.vials_reserved = vials[item.pk]
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
