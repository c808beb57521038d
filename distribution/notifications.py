"""The e-mails of the distribution workflow, as plain functions (tasks.py calls them)."""

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from core.site_address import site_url
from distribution.models import Shipment


def _site_url(path):
    return site_url() + path


def send_request_event_email(event):
    """Tell the requester what happened to their request, and why."""
    request = event.request
    requester = request.requester
    if not requester.email:
        return False
    context = {
        "event": event,
        "request": request,
        "items": list(request.items.select_related("line")),
        "url": _site_url(reverse("distribution:request-detail", args=[request.pk])),
    }
    subject = f"PRISM Catalog request {request.pk}: {event.summary}"
    body = render_to_string("distribution/email/request_event.txt", context)
    send_mail(subject, body, None, [requester.email])
    return True


def send_withdrawal_notices(line_ids, reason):
    """Tell every past recipient of these lines that the material is withdrawn.

    One e-mail per requester, listing each shipment they received."""
    shipments = (
        Shipment.objects.filter(line_id__in=line_ids)
        .select_related("line", "request__requester")
        .order_by("request__requester_id", "shipped_on")
    )
    by_requester = {}
    for shipment in shipments:
        by_requester.setdefault(shipment.request.requester, []).append(shipment)
    sent = 0
    for requester, held in by_requester.items():
        if not requester.email:
            continue
        body = render_to_string(
            "distribution/email/material_withdrawn.txt",
            {"requester": requester, "shipments": held, "reason": reason},
        )
        names = ", ".join(sorted({s.line.name for s in held}))
        send_mail(
            f"PRISM Catalog: material you received is withdrawn ({names})",
            body,
            None,
            [requester.email],
        )
        sent += 1
    return sent


def send_lot_recall_notices(lot_id, reason):
    """Tell every past recipient of a recalled lot's vials, one e-mail each."""
    shipments = (
        Shipment.objects.filter(reserved_vials__vial__lot_id=lot_id)
        .distinct()
        .select_related("line", "request__requester")
        .order_by("request__requester_id", "shipped_on")
    )
    by_requester = {}
    for shipment in shipments:
        by_requester.setdefault(shipment.request.requester, []).append(shipment)
    sent = 0
    for requester, held in by_requester.items():
        if not requester.email:
            continue
        body = render_to_string(
            "distribution/email/lot_recalled.txt", {"requester": requester, "shipments": held, "reason": reason}
        )
        send_mail(f"PRISM Catalog: a lot you received is recalled ({held[0].line.name})", body, None, [requester.email])
        sent += 1
    return sent
