"""Recall (or quarantine) of a lot: a failed re-test, e.g. mycoplasma.

The withdrawal cascade's shape (distribution/actions/withdrawal.py), for one lot: in
one transaction the lot is withheld with its reason and its vials still in the bank
are quarantined (stock.actions.withhold_lot); every open request that reserved them
goes on hold with the reason, through the hold step (so each gets its event and
e-mail); after commit every past recipient of the lot is told.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction

from distribution.actions import requests as request_actions
from distribution.actions.effects import publish_after_commit
from distribution.models import OPEN_STATUSES, DistributionRequest, InvalidAction, NotAllowed, ReservedVial
from distribution.tasks import notify_lot_recalled
from stock import actions as stock_actions
from stock.models import Lot, LotStatus


@dataclass
class RecallReport:
    quarantined_vials: int = 0
    held_requests: list[int] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)


def recall_lot(
    lot: Lot, *, by: User, reason: str, status: str = LotStatus.RECALLED, notify: bool = True
) -> RecallReport:
    """Recall (or quarantine, status=quarantined) `lot`, with a mandatory reason."""
    try:
        with transaction.atomic():
            vial_ids = stock_actions.withhold_lot(lot, status, by=by, reason=reason)
            words = f"Lot {lot.code} of {lot.line.name} {'recalled' if status == LotStatus.RECALLED else 'quarantined'}: {reason.strip()}"
            held = []
            requests = DistributionRequest.objects.filter(
                status__in=OPEN_STATUSES,
                on_hold=False,
                items__reserved_vials__vial__lot=lot,
                items__reserved_vials__released_at__isnull=True,
            ).distinct()
            for request in requests:
                request_actions.put_on_hold(request, by, words, notify=notify)
                held.append(request.pk)
            recipients = sorted(
                set(
                    ReservedVial.objects.filter(vial__lot=lot, shipment__isnull=False).values_list(
                        "item__request__requester__username", flat=True
                    )
                )
            )
            if notify and recipients:
                publish_after_commit(notify_lot_recalled, lot.pk, words)
    except stock_actions.StockError as error:
        cls = NotAllowed if error.status_code == 403 else InvalidAction
        raise cls(error.message, error.problems) from error
    return RecallReport(len(vial_ids), held, recipients)
