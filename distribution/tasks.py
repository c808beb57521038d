"""Thin Celery tasks: take ids, re-fetch, call the plain functions in notifications.py.

Queued with transaction.on_commit, so a worker never reads rows that are not
committed yet, and a rolled-back change sends nothing."""

from celery import shared_task

from distribution.models import RequestEvent
from distribution.notifications import send_lot_recall_notices, send_request_event_email, send_withdrawal_notices


@shared_task(
    autoretry_for=(ConnectionError, OSError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=90,
    time_limit=120,
)
def notify_request_event(event_id):
    event = RequestEvent.objects.select_related("request__requester", "actor").filter(pk=event_id).first()
    if event is None:
        return False
    return send_request_event_email(event)


@shared_task(
    autoretry_for=(ConnectionError, OSError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=270,
    time_limit=300,
)
def notify_material_withdrawn(line_ids, reason):
    return send_withdrawal_notices(line_ids, reason)


@shared_task(
    autoretry_for=(ConnectionError, OSError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=270,
    time_limit=300,
)
def notify_lot_recalled(lot_id, reason):
    return send_lot_recall_notices(lot_id, reason)
