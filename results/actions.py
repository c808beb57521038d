"""Writes of results that span models: a curator's release or rejection, the return
of derived data under DUO RTN, and telling depositors when a donor withdraws.

The RTN rule lives in distribution.returns: a request whose shipped lines carry RTN
cannot be completed until derived data came back. A valid dataset is that data:
`record_returned_data` stamps the depositor's shipped requests whose every RTN line
is now covered by one of the depositor's valid datasets.
"""

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.roles import is_curator
from distribution.models import DistributionRequest, IllegalTransition, InvalidAction, NotAllowed, RequestStatus
from distribution.returns import record_return, return_outstanding, rtn_line_ids
from results.models import VALID_STATUSES, Dataset, DatasetLine, DatasetStatus


def _decide(dataset: Dataset, by: Any, status: str, reason: str) -> Dataset:
    if not is_curator(by):
        raise NotAllowed(f"Only a curator may release or reject dataset {dataset.pk}.")
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        if locked.status != DatasetStatus.PENDING_REVIEW:
            raise IllegalTransition(
                f"Dataset {dataset.pk} is {locked.get_status_display().lower()}: only a valid dataset awaiting "
                "a curator can be released or rejected."
            )
        locked.status = status
        locked.decided_by = by
        locked.decision_reason = reason
        if status == DatasetStatus.RELEASED:
            locked.released_at = timezone.now()
        locked.save(update_fields=["status", "decided_by", "decision_reason", "released_at", "updated_at"])
    dataset.refresh_from_db()
    return dataset


def release_dataset(dataset: Dataset, by: Any, reason: str = "") -> Dataset:
    """A curator releases a valid dataset: its metadata is listed, its numbers shown
    (after any embargo) to whoever the donors' consent allows."""
    return _decide(dataset, by, DatasetStatus.RELEASED, reason.strip())


def reject_dataset(dataset: Dataset, by: Any, reason: str) -> Dataset:
    if not reason.strip():
        raise InvalidAction("A rejection needs a reason.", {"reason": "required"})
    return _decide(dataset, by, DatasetStatus.REJECTED, reason.strip())


def record_returned_data(dataset_id: int) -> int:
    """Stamp the depositor's shipped requests whose RTN lines are all covered by their
    valid datasets (distribution.returns.record_return); returns how many."""
    dataset = Dataset.objects.filter(pk=dataset_id, status__in=VALID_STATUSES).first()
    if dataset is None:
        return 0
    covered = set(
        DatasetLine.objects.filter(
            dataset__depositor_id=dataset.depositor_id, dataset__status__in=VALID_STATUSES
        ).values_list("line_id", flat=True)
    )
    requests = DistributionRequest.objects.filter(
        requester_id=dataset.depositor_id,
        status=RequestStatus.SHIPPED,
        derived_data_returned_at__isnull=True,
    ).prefetch_related("items", "shipments")
    done = [r for r in requests if return_outstanding(r) and rtn_line_ids(r) <= covered]
    return record_return(done, f"dataset {dataset.pk}") if done else 0


def tell_depositors_of_withdrawals(now: Any = None) -> int:
    """E-mail each depositor whose datasets hold a donor who withdrew consent (once per
    dataset): the results left public view and are kept, marked. Returns e-mails sent."""
    now = now or timezone.now()
    pending = (
        Dataset.objects.with_withdrawn_donor()
        .filter(withdrawal_notified_at__isnull=True)
        .select_related("depositor")
        .order_by("depositor_id", "pk")
    )
    by_depositor: dict[Any, list[Dataset]] = {}
    for dataset in pending:
        by_depositor.setdefault(dataset.depositor, []).append(dataset)
    sent = 0
    for depositor, datasets in by_depositor.items():
        if depositor.email:
            listing = "\n".join(
                f"- {d.title}: {settings.SITE_URL.rstrip('/')}{reverse('results:dataset', args=[d.pk])}"
                for d in datasets
            )
            send_mail(
                "PRISM Catalog: a donor in your results withdrew consent",
                "A donor whose line is in the datasets below withdrew consent. Their results have left "
                "public view: they are kept, marked, and shown only to curators and your institution.\n\n"
                f"{listing}\n",
                None,
                [depositor.email],
            )
            sent += 1
        Dataset.objects.filter(pk__in=[d.pk for d in datasets]).update(withdrawal_notified_at=now)
    return sent
