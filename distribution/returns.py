"""DUO RTN (DUO:0000029, return derived data): the one home of the rule.

A request whose lines' consent carries RTN cannot be completed until its recipient
has returned derived data on the shipped RTN lines, or a curator has waived the
return with a reason. Results are deposited in results/, a layer above this one:
when a recipient's valid dataset covers the shipped RTN lines, results calls
`record_return`, which stamps the request; `complete` (distribution.actions.requests)
asks `return_outstanding` here.
"""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.roles import is_curator
from distribution.models import (
    DistributionRequest,
    InvalidAction,
    LineDecision,
    NotAllowed,
    RequestEvent,
    RequestStatus,
)
from donors.duo import RTN


def rtn_line_ids(request: DistributionRequest) -> set[int]:
    """Lines of the request that were shipped and whose consent asks for derived data back."""
    shipped = set(request.shipments.values_list("line_id", flat=True))
    return {
        item.line_id
        for item in request.items.all()
        if item.decision != LineDecision.REJECTED
        and item.line_id in shipped
        and any(c.get("code") == RTN for c in item.conditions)
    }


def return_outstanding(request: DistributionRequest) -> str | None:
    """Why the request cannot be completed yet under RTN, or None when it may be."""
    if request.derived_data_returned_at is not None or request.derived_data_waiver:
        return None
    lines = rtn_line_ids(request)
    if not lines:
        return None
    names = sorted(item.line.name for item in request.items.select_related("line") if item.line_id in lines)
    return (
        f"The consent of {', '.join(names)} asks for derived data to be returned ({RTN}, RTN): "
        "deposit a dataset on the shipped lines (Results → Deposit), or a curator waives the return with a reason."
    )


def record_return(requests: Iterable[DistributionRequest], reference: str) -> int:
    """Stamp requests whose derived data has been returned (by results/); idempotent."""
    ids = [r.pk for r in requests]
    return DistributionRequest.objects.filter(pk__in=ids, derived_data_returned_at__isnull=True).update(
        derived_data_returned_at=timezone.now(), derived_data_reference=reference[:200]
    )


def waive_return(request: DistributionRequest, by: Any, reason: str) -> RequestEvent:
    """A curator lets a shipped request complete without returned data, saying why."""
    if not is_curator(by):
        raise NotAllowed(f"Only a curator may waive the return of derived data for request {request.pk}.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidAction("A waiver needs a reason.", {"reason": "required"})
    with transaction.atomic():
        locked = DistributionRequest.objects.select_for_update().get(pk=request.pk)
        locked.derived_data_waiver = reason
        locked.derived_data_waived_by = by
        # Who and why, for the request's simple_history record (as distribution.actions.effects.record_author).
        locked._history_user = by  # type: ignore[attr-defined]
        locked._change_reason = "return of derived data waived"  # type: ignore[attr-defined]
        locked.save(update_fields=["derived_data_waiver", "derived_data_waived_by", "updated_at"])
        event = RequestEvent.objects.create(
            request=locked,
            actor=by,
            action="return_waived",
            from_status=locked.status,
            to_status=locked.status,
            reason=reason,
        )
    request.refresh_from_db()
    return event


__all__ = ["RTN", "RequestStatus", "record_return", "return_outstanding", "rtn_line_ids", "waive_return"]
