"""Celery tasks of the lines app. Thin: they take ids and call lines.submissions
and lines.approval, which hold the logic and are tested without a worker."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import approval, submissions

logger = logging.getLogger(__name__)

# Errors worth another try: the database went away or refused a connection for a
# moment. Anything else is a bug or a bad document and retrying would not help.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    bind=True,
    # Acknowledged only when finished: a worker killed mid-run leaves the message
    # to be redelivered (after the broker's visibility timeout), and the claim in
    # run_validation makes the second delivery harmless if the first finished.
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    # 10,000 lines validate in well under this; at the soft limit run_validation
    # hands its claim back before the hard kill.
    soft_time_limit=25 * 60,
    time_limit=26 * 60,
)
def validate_submission(self, submission_id):
    submissions.run_validation(submission_id)


@shared_task(
    bind=True,
    name="lines.tasks.approve_submission",
    # As validation: redelivered if the worker dies; the claim (and the row lock
    # inside approval's one transaction) make a second delivery write nothing.
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    # 10,000 lines take about a minute and a half under load; at the soft limit the
    # transaction rolls back and the claim is handed back.
    soft_time_limit=25 * 60,
    time_limit=26 * 60,
)
def approve_submission_task(self, submission_id):
    approval.run_approval(submission_id)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def requeue_stale_submissions():
    """Beat: validation for submissions stuck in received/validating, and approvals
    stuck in approving, are queued again."""
    return submissions.requeue_stale_submissions() + approval.requeue_stale_approvals()
