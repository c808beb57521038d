"""/api/v1/requests/{id}/<step>/: one endpoint per step of distribution/transitions.py.

The table below says, per endpoint, its documentation, its input and which
action it calls; one view serves them all. The two line steps of the table
(approve-line, reject-line) share one endpoint, decide-line, whose input says which.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from distribution.actions import requests as actions
from distribution.api.common import (
    DistributionAPIView,
    error_responses,
    request_body,
    request_queryset,
)
from distribution.api.serializers import (
    AgreementRecordSerializer,
    DistributionRequestSerializer,
    EmptyInputSerializer,
    LineDecisionSerializer,
    ShipRequestSerializer,
    SubmitRequestSerializer,
    TransitionReasonSerializer,
    TransitionRequiredReasonSerializer,
)
from distribution.models import DistributionRequest, RequestEvent

ERROR_CODES = (400, 401, 403, 404, 409)


@dataclass(frozen=True)
class Endpoint:
    name: str  # the URL segment; a step of distribution.transitions.TRANSITIONS, or decide-line
    summary: str
    description: str
    input: type[serializers.Serializer]
    perform: Callable[[DistributionRequest, Any, dict], RequestEvent]


ENDPOINTS = (
    Endpoint(
        "submit",
        "Submit a draft (requester)",
        "Judges every line again; refuses DENY lines and conditions not accepted (400). From draft only (409).",
        SubmitRequestSerializer,
        lambda r, u, d: actions.submit(r, u, accepted_conditions=d.get("accepted_conditions")),
    ),
    Endpoint(
        "start-review",
        "Start reviewing (curator)",
        "From submitted to under review.",
        EmptyInputSerializer,
        lambda r, u, d: actions.start_review(r, u),
    ),
    Endpoint(
        "decide-line",
        "Approve or reject one line (curator)",
        "A rejection needs a reason, and so does approving a line whose consent needed a curator's "
        "judgement (ABSTAIN). Allowed while submitted or under review.",
        LineDecisionSerializer,
        lambda r, u, d: actions.decide_line(r, u, d["line"], d["decision"], d["reason"]),
    ),
    Endpoint(
        "approve",
        "Approve the request (curator)",
        "Pending lines the consent allows are approved with it; ABSTAIN lines must be decided first (400).",
        TransitionReasonSerializer,
        lambda r, u, d: actions.approve(r, u, d["reason"]),
    ),
    Endpoint(
        "reject",
        "Reject the request (curator), with a reason",
        "Possible at any point before shipment.",
        TransitionRequiredReasonSerializer,
        lambda r, u, d: actions.reject(r, u, d["reason"]),
    ),
    Endpoint(
        "agreement",
        "Record the executed material transfer agreement (curator)",
        "From approved to agreement executed.",
        AgreementRecordSerializer,
        lambda r, u, d: actions.record_agreement(r, u, d["reference"], d["executed_on"], d["sent_on"]),
    ),
    Endpoint(
        "ship",
        "Record the shipment (curator)",
        "Per approved line: date, vials, batch and passage. From agreement executed to shipped.",
        ShipRequestSerializer,
        lambda r, u, d: actions.ship(r, u, d["shipments"]),
    ),
    Endpoint(
        "complete",
        "Confirm receipt / close (requester or curator)",
        "From shipped to completed.",
        TransitionReasonSerializer,
        lambda r, u, d: actions.complete(r, u, d["reason"]),
    ),
    Endpoint(
        "cancel",
        "Cancel (requester, or a curator with a reason)",
        "Possible at any point before shipment.",
        TransitionReasonSerializer,
        lambda r, u, d: actions.cancel(r, u, d["reason"]),
    ),
    Endpoint(
        "hold",
        "Put on hold (curator), with a reason",
        "Blocks every step but reject and cancel until released.",
        TransitionRequiredReasonSerializer,
        lambda r, u, d: actions.put_on_hold(r, u, d["reason"]),
    ),
    Endpoint(
        "release-hold",
        "Release a hold (curator)",
        "Lines that may no longer be distributed must be rejected first (400).",
        TransitionReasonSerializer,
        lambda r, u, d: actions.release_hold(r, u, d["reason"]),
    ),
)


class TransitionView(DistributionAPIView):
    """POST requests/{id}/<step>/: parse the endpoint's input, call its action, answer the request."""

    endpoint: Endpoint

    def post(self, request, pk):
        request_obj = get_object_or_404(DistributionRequest.objects.visible_to(request.user), pk=pk)
        data = self.endpoint.input(data=request.data)
        data.is_valid(raise_exception=True)
        self.endpoint.perform(request_obj, request.user, data.validated_data)
        return Response(request_body(request_queryset(request.user).get(pk=pk), request.user))


def documented_view(endpoint: Endpoint) -> type[TransitionView]:
    """A TransitionView subclass with its own documented `post` (a fresh function, so the
    schema annotation of one endpoint never overwrites another's)."""

    def post(self, request, pk):
        return TransitionView.post(self, request, pk)

    post = extend_schema(
        operation_id=f"requests_{endpoint.name.replace('-', '_')}",
        summary=endpoint.summary,
        description=endpoint.description,
        request=None if endpoint.input is EmptyInputSerializer else endpoint.input,
        responses={200: DistributionRequestSerializer, **error_responses(*ERROR_CODES)},
        tags=["distribution"],
    )(post)
    return type(
        f"{endpoint.name.title().replace('-', '')}TransitionView",
        (TransitionView,),
        {"endpoint": endpoint, "post": post},
    )


def transition_urls() -> list[URLPattern]:
    return [
        path(
            f"requests/<int:pk>/{e.name}/",
            documented_view(e).as_view(),
            name=f"api-request-{e.name}",
        )
        for e in ENDPOINTS
    ]
