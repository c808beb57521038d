"""Celery tasks of the lines app. Thin: they take ids and call lines.submissions.pipeline
and lines.submissions.writer, which hold the logic and are tested without a worker."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from lines.submissions import pipeline as submissions
from lines.submissions import writer as approval

logger = logging.getLogger(__name__)

# Errors worth another try: the database went away or refused a connection for a
# moment. Anything else is a bug or a bad document and retrying would not help.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


# Both submission tasks are acknowledged only when finished: a worker killed
# mid-run leaves the message to be redelivered (after the broker's visibility
# timeout), and the claim in run_validation / run_approval (plus approval's row
# lock inside its one transaction) makes a second delivery harmless. 10,000 lines
# validate in well under the soft limit and approve in about a minute and a half;
# at the soft limit the run hands its claim back (approval's transaction rolls back).
SUBMISSION_TASK_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
    "soft_time_limit": 25 * 60,
    "time_limit": 26 * 60,
}


@shared_task(**SUBMISSION_TASK_OPTIONS)
def validate_submission(self, submission_id):
    submissions.run_validation(submission_id)


@shared_task(name="lines.tasks.approve_submission", **SUBMISSION_TASK_OPTIONS)
def approve_submission_task(self, submission_id):
    approval.run_approval(submission_id)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def requeue_stale_submissions():
    """Beat: validation for submissions stuck in received/validating, and approvals
    stuck in approving, are queued again."""
    return submissions.requeue_stale_submissions() + approval.requeue_stale_approvals()
