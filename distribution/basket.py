"""The basket: lines a researcher is about to request, the purpose checked against each
donor's consent, the conditions to accept, and the request submitted.

One POST form (its CSRF token never goes into a URL): "Check eligibility" judges the
lines and shows the page again with everything typed kept (vial counts, organisation,
shipping address); "Submit request" creates and submits the request. A line whose QC
panel has not passed is flagged before it is asked for.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.double_submits import key_of, new_key
from core.roles import may_request
from core.vocabulary import term_labels
from distribution.actions import requests as actions
from distribution.actions.creation import requester_defaults
from distribution.actions.requests import MAX_VIALS_PER_LINE, create_request
from distribution.eligibility import evaluate_lines
from distribution.forms import PurposeForm
from distribution.models import RequestStatus, WorkflowError
from lines.availability import term as availability_term
from lines.holdings.filters import CellLineFilter
from lines.models import CellLine, CurationStatus, QCStatus
from stock.availability import requestable_lots

BASKET_KEY = "distribution_basket"
MAX_BASKET = 50


def basket_names(request):
    return list(request.session.get(BASKET_KEY, []))


def save_basket(request, names):
    request.session[BASKET_KEY] = names[:MAX_BASKET]


class BasketForm(PurposeForm):
    organisation = forms.CharField(
        label="Requesting organisation",
        max_length=200,
        required=False,
        help_text="As it will sign the material transfer agreement.",
    )
    shipping_address = forms.CharField(
        label="Shipping address",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "shipping street-address"}),
        help_text="Where the vials go: lab, building, street, city, postcode, country. Shown to the curators only.",
    )


def _vials(data, name):
    raw = (data.get(f"vials-{name}") or "1").strip() if data is not None else "1"
    return int(raw) if raw.isdigit() else raw


def _labelled(items, labels):
    return [{"text": i.text, "code": i.code, "label": labels.get(i.code, "")} for i in items]


@login_required
@require_POST
def basket_add(request):
    names = [n.replace("\x00", "").strip()[:40] for n in request.POST.getlist("line") if n.strip()][:MAX_BASKET]
    basket = basket_names(request)
    wanted = Q()
    for name in names:
        wanted |= Q(name__iexact=name)
    # Names are matched whatever their case ("ukbi008-a" finds UKBi008-A).
    visible = {}
    if names:
        for name in CellLine.objects.visible_to(request.user).filter(wanted).values_list("name", flat=True):
            visible[name.lower()] = name
    for typed in names:
        name = visible.get(typed.lower())
        if name is None:
            messages.error(request, f"No line called {typed} is available to you.")
        elif name not in basket:
            basket.append(name)
            messages.success(request, f"{name} added to your basket.")
    if len(basket) > MAX_BASKET:
        messages.error(request, f"A basket holds at most {MAX_BASKET} lines.")
    save_basket(request, basket)
    return redirect(request.POST.get("next") or reverse("distribution:basket"))


@login_required
@require_POST
def basket_remove(request):
    name = request.POST.get("line", "")
    save_basket(request, [n for n in basket_names(request) if n != name])
    messages.success(request, f"{name} removed from your basket.")
    return redirect("distribution:basket")


@login_required
def basket(request):
    """The basket: state the purpose, see eligibility per line, accept conditions, submit."""
    names = basket_names(request)
    found = {line.name: line for line in CellLine.objects.visible_to(request.user).filter(name__in=names)}
    lines = [found[n] for n in names if n in found]
    data = request.POST if request.method == "POST" else (request.GET if request.GET.get("codes") else None)
    form = BasketForm(data, initial=requester_defaults(request.user))
    vials = {line.name: _vials(data, line.name) for line in lines}
    # The lot asked for, per line ("" = the oldest released lot first).
    chosen_lots = {
        line.name: (data.get(f"lot-{line.name}") or "").strip() if data is not None else "" for line in lines
    }
    lot_choices = requestable_lots([line.pk for line in lines])
    results, conditions = [], {}
    if form.is_bound and form.is_valid() and lines:
        results = evaluate_lines(lines, form.purpose())
        for result in results:
            for condition in result.conditions:
                conditions.setdefault(condition.code, condition)
    submitting = request.method == "POST" and request.POST.get("action") == "submit"
    if submitting and form.is_valid() and not form.cleaned_data["shipping_address"].strip():
        form.add_error("shipping_address", "Say where the vials should go.")
    if submitting and form.is_valid():
        response = _submit(request, form, lines, vials, chosen_lots)
        if response is not None:
            return response
    labels = term_labels(
        [r.code for result in results for r in result.reasons]
        + list(conditions)
        + [form.cleaned_data.get("disease", "") if form.is_bound and form.is_valid() else ""]
    )
    by_name = {r.line: r for r in results}
    rows = []
    for line in lines:
        result = by_name.get(line.name)
        rows.append(
            {
                "line": line,
                "result": result,
                "reasons": _labelled(result.reasons, labels) if result else [],
                "vials": vials[line.name],
                "lots": lot_choices.get(line.pk, []),
                "lot": chosen_lots[line.name],
                "availability": availability_term(line.availability, line.status),
                "qc_incomplete": line.qc_status != QCStatus.PASSED,
            }
        )
    return render(
        request,
        "distribution/basket.html",
        {
            "rows": rows,
            "form": form,
            "conditions": [{**c.as_dict(), "label": labels.get(c.code, "")} for c in conditions.values()],
            "has_denied": any(r.decision == "DENY" for r in results),
            "qc_incomplete": [row["line"].name for row in rows if row["qc_incomplete"]],
            "checked": bool(results),
            "missing": [n for n in names if n not in found],
            "may_request": may_request(request.user),
            "max_vials": MAX_VIALS_PER_LINE,
            "idempotency_key": new_key(),
            "accepted": request.POST.getlist("accept") if request.method == "POST" else [],
        },
    )


def _submit(request, form, lines, vials, lots):
    if not may_request(request.user):
        raise PermissionDenied("Only researchers and depositors may request lines.")
    accepted = request.POST.getlist("accept")
    p = form.purpose()
    created = None
    try:
        created = create_request(
            request.user,
            lines,
            idempotency_key=key_of(request),
            purpose_codes=p.codes,
            purpose_disease=p.disease,
            commercial=p.commercial,
            organisation_type=p.organisation_type,
            organisation=form.cleaned_data["organisation"],
            shipping_address=form.cleaned_data["shipping_address"],
            purpose_summary=form.cleaned_data["purpose_summary"],
            vials={name: n if isinstance(n, int) else 0 for name, n in vials.items()},
            lots={name: code for name, code in lots.items() if code},
            accepted_conditions=accepted,
        )
        if created.status == RequestStatus.DRAFT:  # not one this form's key made and sent already
            actions.submit(created, request.user, accepted_conditions=accepted)
    except WorkflowError as error:
        if created is None:
            messages.error(request, error.message)
            return None
        # The draft is kept (with the lines and purpose) so nothing typed is lost.
        save_basket(request, [])
        messages.error(request, f"Your request {created.pk} is saved as a draft: {error.message}")
        return redirect("distribution:request-detail", pk=created.pk)
    save_basket(request, [])
    messages.success(
        request, f"Request {created.pk} submitted. The curators will review it; you will hear of every step by e-mail."
    )
    return redirect("distribution:request-detail", pk=created.pk)


@login_required
def basket_from_search(request):
    """The hand-over of a (federated) search: the released lines matching catalog
    filters, as this bank's catalog reads them, shown on GET and added to this bank's
    basket on POST (CSRF-protected: a link alone never changes a basket). A request
    is then made, and decided, here, in this bank's own workflow."""
    if not may_request(request.user):
        raise PermissionDenied("Your account may not request lines.")
    data = request.POST if request.method == "POST" else request.GET
    params = QueryDict(mutable=True)
    for name in data:
        if name not in ("csrfmiddlewaretoken", "page", "cursor"):
            params.setlist(name, data.getlist(name))
    released = CellLine.objects.visible_to(request.user).filter(status=CurationStatus.RELEASED)
    filterset = CellLineFilter(params, queryset=released, request=request)
    if not params or not filterset.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in filterset.errors.items()) if params else ""
        messages.error(request, "The search cannot be read here" + (f" ({problems})." if problems else ": no filters."))
        return redirect("catalog")
    basket = basket_names(request)
    room = max(0, MAX_BASKET - len(basket))
    matching = filterset.qs.exclude(name__in=basket).order_by("name")
    total = matching.count()
    names = list(matching.values_list("name", flat=True)[:room])
    if request.method == "POST":
        save_basket(request, basket + names)
        messages.success(request, f"{len(names)} matching line(s) added to your basket.")
        if total > len(names):
            messages.error(request, f"{total - len(names)} more match: a basket holds at most {MAX_BASKET} lines.")
        return redirect("distribution:basket")
    return render(
        request,
        "distribution/basket_from_search.html",
        {"names": names, "total": total, "params": params, "already": len(basket), "room": room},
    )
