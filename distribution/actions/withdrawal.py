"""Withdrawal: a donor withdraws consent, or a line is withdrawn (e.g. a failed QC).

ISO 20387 asks that a withdrawal stop further distribution. In one transaction
the consent (for a donor) is marked withdrawn, the lines become withdrawn and not
distributed (with the reason), every open request for them is put on hold with
that reason (through the hold step, so each gets its event and e-mail), and the
lines' search text and STR index entries are rebuilt; after commit the requesters
(one e-mail per held request) and every past recipient of the material (one
e-mail each) are told. Nothing is deleted: the consent, lines, requests and
shipments keep their history, and the report says who holds material.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.roles import is_curator
from distribution.actions import requests as request_actions
from distribution.actions.effects import publish_after_commit, record_author
from distribution.models import (
    OPEN_STATUSES,
    DistributionRequest,
    IllegalTransition,
    InvalidAction,
    NotAllowed,
)
from distribution.selectors import recipients_holding
from distribution.tasks import notify_material_withdrawn
from donors.models import Consent, Donor
from lines.models import Availability, CellLine, CurationStatus
from lines.search_text import refresh_search_text
from lines.str.store import DONOR, LINE, reindex_many
from stock.availability import refresh_line_stock


@dataclass
class WithdrawalReport:
    lines: list = field(default_factory=list)
    held_requests: list = field(default_factory=list)
    recipients: list = field(default_factory=list)


def _check(by: User, reason: str) -> str:
    if not is_curator(by):
        raise NotAllowed("Only curators may record a withdrawal.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidAction("Give the reason for the withdrawal.", {"reason": "required"})
    return reason


def withdraw_consent(
    donor: Donor,
    *,
    by: User,
    on: datetime.date | None = None,
    reason: str,
    at: datetime.datetime | None = None,
    notify: bool = True,
) -> WithdrawalReport:
    """Record that `donor` withdrew consent on `on` (default today) and stop their lines.

    A backfill (the demo catalog) passes `at`, when the withdrawal was recorded,
    and `notify=False`: nobody is e-mailed about the past."""
    reason = _check(by, reason)
    on = on or timezone.localdate()
    with transaction.atomic():
        consent = Consent.objects.select_for_update().filter(donor=donor).first()
        if consent is None:
            # No consent details were recorded; the withdrawal itself still is.
            consent = Consent(donor=donor)
        elif consent.withdrawn_on is not None:
            raise IllegalTransition(f"Donor {donor.code} already withdrew consent on {consent.withdrawn_on:%Y-%m-%d}.")
        if consent.obtained_on and on < consent.obtained_on:
            raise InvalidAction(
                f"Consent was obtained on {consent.obtained_on:%Y-%m-%d}; it cannot be withdrawn before that.",
                {"withdrawn_on": "before consent was obtained"},
            )
        consent.withdrawn_on = on
        consent.withdrawal_reason = reason
        record_author(consent, by)
        consent.save()
        lines = list(CellLine.objects.select_for_update().filter(donor=donor).order_by("name"))
        report = _withdraw_lines(lines, by, f"Donor consent withdrawn on {on:%Y-%m-%d}: {reason}", at=at, notify=notify)
        reindex_many(DONOR, [donor])
    return report


def withdraw_line(
    line: CellLine,
    *,
    by: User,
    reason: str,
    at: datetime.datetime | None = None,
    notify: bool = True,
) -> WithdrawalReport:
    """Withdraw one line from distribution, e.g. after a failed QC test."""
    reason = _check(by, reason)
    with transaction.atomic():
        locked = CellLine.objects.select_for_update().get(pk=line.pk)
        if locked.status == CurationStatus.WITHDRAWN:
            raise IllegalTransition(f"Line {locked.name} is already withdrawn: {locked.status_reason}")
        report = _withdraw_lines([locked], by, f"Line {locked.name} withdrawn: {reason}", at=at, notify=notify)
    line.refresh_from_db()
    return report


def _withdraw_lines(
    lines: Sequence[CellLine], by: User, reason: str, *, at: datetime.datetime | None, notify: bool
) -> WithdrawalReport:
    """Inside the caller's transaction: lines out, open requests on hold, index rebuilt, mail after commit."""
    for line in lines:
        line.status = CurationStatus.WITHDRAWN
        line.status_reason = reason
        line.withdrawn_at = at or timezone.now()
        line.availability = Availability.NOT_DISTRIBUTED
        record_author(line, by, "withdrawal")
        line.save()
    open_requests = (
        DistributionRequest.objects.filter(items__line__in=lines, status__in=OPEN_STATUSES).distinct().order_by("pk")
    )
    held = []
    for request in open_requests:
        if not request.on_hold:
            # The hold step records the event and publishes the requester's e-mail.
            request_actions.put_on_hold(request, by, reason, at=at, notify=notify)
        held.append(request.pk)
    line_ids = [line.pk for line in lines]
    if line_ids:
        # A withdrawn consent changes what the search columns and the STR search
        # may expose, so both are rebuilt in this transaction.
        refresh_search_text(CellLine.objects.filter(pk__in=line_ids))
        reindex_many(LINE, lines)
        refresh_line_stock(line_ids)  # withdrawn lines are not distributed, whatever their stock
        if notify:
            publish_after_commit(notify_material_withdrawn, line_ids, reason)
    return WithdrawalReport(
        lines=[line.name for line in lines],
        held_requests=held,
        recipients=list(recipients_holding(lines)),
    )
