"""Pages of distribution: the basket, my requests, the curator queue, review and withdrawal.

Each view fetches with visible_to(user), calls one action (distribution/actions/),
and redirects with a message. Refusals of the workflow become the
message the user reads; a request the user may not see is a 404.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.roles import is_curator, may_request
from core.vocabulary import term_labels
from distribution import returns
from distribution.actions import requests as actions
from distribution.actions.creation import requester_defaults
from distribution.actions.requests import purpose_of
from distribution.actions.withdrawal import withdraw_consent, withdraw_line
from distribution.basket import basket_names
from distribution.eligibility import evaluate_lines, filter_lines_for_purpose
from distribution.forms import AgreementForm, PurposeForm, WithdrawConsentForm, WithdrawLineForm
from distribution.models import (
    DistributionRequest,
    LineDecision,
    NotAllowed,
    RequestStatus,
    WorkflowError,
)
from distribution.selectors import recipients_holding, vials_of_items
from distribution.transitions import offered
from donors.models import Donor
from lines.availability import TERMS as AVAILABILITY_TERMS
from lines.availability import term as availability_term
from lines.models import CellLine

# What the line list offers: the availabilities that can be requested (lines.availability).
REQUESTABLE = [value for value, t in AVAILABILITY_TERMS.items() if t.requestable]


def _curator_required(user):
    if not is_curator(user):
        raise PermissionDenied("Curators only.")


# --- researcher: lines, basket, requests --------------------------------------------


@login_required
def line_list(request):
    """Lines the user may see and request; optionally only those a stated purpose may use."""
    lines = CellLine.objects.visible_to(request.user).released().filter(availability__in=REQUESTABLE)
    # NUL cannot reach PostgreSQL in a text parameter; nobody types it.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    if query:
        lines = lines.filter(Q(name__icontains=query) | Q(donor__disease_label__icontains=query))
    purpose_form = PurposeForm(
        request.GET if request.GET.get("codes") else None,
        initial=requester_defaults(request.user),
    )
    purpose_stated = purpose_form.is_bound and purpose_form.is_valid()
    if purpose_stated:
        p = purpose_form.purpose()
        lines = filter_lines_for_purpose(lines, p.codes, p.disease, p.commercial, p.organisation_type)
    page = Paginator(lines.select_related("donor").order_by("name"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "distribution/line_list.html",
        {
            "page": page,
            "query": query,
            "purpose_form": purpose_form,
            "purpose_stated": purpose_stated,
            "basket": set(basket_names(request)),
            "may_request": may_request(request.user),
        },
    )


@login_required
def my_requests(request):
    requests_ = (
        DistributionRequest.objects.filter(requester=request.user)
        .annotate(line_count=Count("items"))
        .order_by("-created_at")
    )
    return render(request, "distribution/my_requests.html", {"requests": requests_})


@login_required
def request_detail(request, pk):
    request_obj = get_object_or_404(
        DistributionRequest.objects.visible_to(request.user).select_related("requester", "curator"),
        pk=pk,
    )
    items = list(request_obj.items.select_related("line", "line__donor", "decided_by", "lot").order_by("id"))
    reserved = vials_of_items(items, request.user)
    curator = is_curator(request.user)
    own = request_obj.requester_id == request.user.pk
    today = timezone.localdate()
    offered_now = offered(request_obj, request.user)
    # Consent is judged again at every view (it may have been withdrawn or changed since
    # the request was submitted); the page shows today's answer and offers no line
    # approval the consent would refuse.
    current = evaluate_lines([item.line for item in items], purpose_of(request_obj)) if items else []
    labels = term_labels(
        [*request_obj.purpose_codes, request_obj.purpose_disease]
        + [r.code for result in current for r in result.reasons]
        + [c.code for result in current for c in result.conditions]
    )
    for item, result in zip(items, current, strict=True):
        item.current = result
        item.current_reasons = [
            {"text": r.text, "code": r.code, "label": labels.get(r.code, "")} for r in result.reasons
        ]
        item.current_conditions = [
            {"text": c.text, "code": c.code, "label": labels.get(c.code, "")} for c in result.conditions
        ]
        item.consent_changed = result.decision != item.eligibility
        item.may_approve = "approve-line" in offered_now and result.decision != "DENY"
        item.availability = availability_term(item.line.availability, item.line.status)
        item.vials_reserved = reserved[item.pk]
    return render(
        request,
        "distribution/request_detail.html",
        {
            "req": request_obj,
            "items": items,
            "reserved_any": any(reserved.values()),
            "is_reviewer": curator,
            "is_owner": own,
            "events": request_obj.events.select_related("actor"),
            "shipments": request_obj.shipments.select_related("line"),
            "required_conditions": request_obj.required_conditions(),
            "approved_items": [i for i in items if i.decision == LineDecision.APPROVED],
            "agreement_form": AgreementForm(initial={"executed_on": today}),
            "today": today,
            "statuses": RequestStatus,
            "offered": offered_now,
            "return_outstanding": returns.return_outstanding(request_obj)
            if request_obj.status == RequestStatus.SHIPPED
            else None,
            "purpose_labels": [(code, labels.get(code, "")) for code in request_obj.purpose_codes],
            "disease_label": labels.get(request_obj.purpose_disease, ""),
        },
    )


def _parse_date(raw):
    try:
        return datetime.date.fromisoformat(raw)
    except (TypeError, ValueError):
        return None


def _shipments_from_post(post, request_obj):
    rows = []
    shipped_on = _parse_date(post.get("shipped_on"))
    for item in request_obj.items.select_related("line").filter(decision=LineDecision.APPROVED):
        vials = post.get(f"vials-{item.pk}", "").strip()
        if not vials:
            continue
        passage = post.get(f"passage-{item.pk}", "").strip()
        rows.append(
            {
                "line": item.line,
                "shipped_on": shipped_on,
                "vials": int(vials) if vials.isdigit() else 0,
                "batch": post.get(f"batch-{item.pk}", "").strip()[:60],
                "passage": int(passage) if passage.isdigit() else None,
                "courier_reference": post.get("courier_reference", "").strip()[:100],
            }
        )
    return rows


# The page's form fields → the action of each step of distribution/transitions.py.
ACTIONS = {
    "submit": lambda r, u, p: actions.submit(r, u, accepted_conditions=p.getlist("accept")),
    "cancel": lambda r, u, p: actions.cancel(r, u, p.get("reason", "")),
    "complete": lambda r, u, p: actions.complete(r, u, p.get("reason", "")),
    "start-review": lambda r, u, p: actions.start_review(r, u),
    "approve-line": lambda r, u, p: actions.decide_line(
        r, u, p.get("line", ""), LineDecision.APPROVED, p.get("reason", "")
    ),
    "reject-line": lambda r, u, p: actions.decide_line(
        r, u, p.get("line", ""), LineDecision.REJECTED, p.get("reason", "")
    ),
    "approve": lambda r, u, p: actions.approve(r, u, p.get("reason", "")),
    "reject": lambda r, u, p: actions.reject(r, u, p.get("reason", "")),
    "agreement": lambda r, u, p: actions.record_agreement(
        r,
        u,
        p.get("reference", ""),
        _parse_date(p.get("executed_on")),
        _parse_date(p.get("sent_on")),
    ),
    "ship": lambda r, u, p: actions.ship(r, u, _shipments_from_post(p, r)),
    "hold": lambda r, u, p: actions.put_on_hold(r, u, p.get("reason", "")),
    "release-hold": lambda r, u, p: actions.release_hold(r, u, p.get("reason", "")),
}
# A step the page offers that is not a transition of the request's state (distribution.returns).
PAGE_ACTIONS = {
    **ACTIONS,
    "waive-return": lambda r, u, p: returns.waive_return(r, u, p.get("reason", "")),
}


@login_required
@require_POST
def request_action(request, pk, action):
    request_obj = get_object_or_404(DistributionRequest.objects.visible_to(request.user), pk=pk)
    if action not in PAGE_ACTIONS:
        raise Http404("No such action.")
    post = request.POST.copy()
    for key in post:
        # Free-text reasons go to text columns; PostgreSQL refuses NUL in them.
        post.setlist(key, [value.replace("\x00", "")[:5000] for value in post.getlist(key)])
    try:
        event = PAGE_ACTIONS[action](request_obj, request.user, post)
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except WorkflowError as error:
        messages.error(request, error.message)
        if error.problems:
            details = "; ".join(f"{k}: {v}" for k, v in error.problems.items() if not isinstance(v, dict | list))
            if details:
                messages.error(request, details)
    else:
        messages.success(request, f"Request {pk}: {event.summary.lower()}.")
    return redirect("distribution:request-detail", pk=pk)


# --- curators: queue and withdrawal --------------------------------------------------


@login_required
def queue(request):
    _curator_required(request.user)
    base = DistributionRequest.objects.select_related("requester").annotate(line_count=Count("items"))
    to_review = base.filter(status__in=[RequestStatus.SUBMITTED, RequestStatus.UNDER_REVIEW]).order_by("submitted_at")
    in_progress = base.filter(status__in=[RequestStatus.APPROVED, RequestStatus.AGREEMENT_EXECUTED]).order_by(
        "decided_at"
    )
    on_hold = base.filter(on_hold=True).order_by("updated_at")
    return render(
        request,
        "distribution/queue.html",
        {
            "to_review": to_review,
            "in_progress": in_progress,
            "on_hold": on_hold,
            "now": timezone.now(),
        },
    )


@login_required
def withdrawals(request):
    """Record a consent or line withdrawal, and see who holds a donor's or line's material."""
    _curator_required(request.user)
    consent_form = WithdrawConsentForm(request.POST if request.POST.get("kind") == "consent" else None)
    line_form = WithdrawLineForm(request.POST if request.POST.get("kind") == "line" else None)
    report = None
    if request.method == "POST":
        try:
            if consent_form.is_bound and consent_form.is_valid():
                donor = Donor.objects.filter(code=consent_form.cleaned_data["donor"]).first()
                if donor is None:
                    consent_form.add_error("donor", "No donor with this code.")
                else:
                    report = withdraw_consent(
                        donor,
                        by=request.user,
                        on=consent_form.cleaned_data["withdrawn_on"],
                        reason=consent_form.cleaned_data["reason"],
                    )
            elif line_form.is_bound and line_form.is_valid():
                line = CellLine.objects.filter(name=line_form.cleaned_data["line"]).first()
                if line is None:
                    line_form.add_error("line", "No line with this name.")
                else:
                    report = withdraw_line(line, by=request.user, reason=line_form.cleaned_data["reason"])
        except WorkflowError as error:
            messages.error(request, error.message)
        if report is not None:
            messages.success(
                request,
                f"Withdrawn: {', '.join(report.lines) or 'no lines'}. "
                f"{len(report.held_requests)} open request(s) put on hold; "
                f"{len(report.recipients)} shipment(s) to past recipients listed below.",
            )
    lookup = (request.GET.get("donor", "").strip() or request.GET.get("line", "").strip()).replace("\x00", "")[:40]
    recipients = None
    if report is not None:
        recipients = report.recipients
    elif lookup:
        lines = CellLine.objects.filter(Q(donor__code=lookup) | Q(name=lookup))
        recipients = list(recipients_holding(lines))
    return render(
        request,
        "distribution/withdrawals.html",
        {
            "consent_form": consent_form,
            "line_form": line_form,
            "report": report,
            "recipients": recipients,
            "lookup": lookup,
        },
    )
