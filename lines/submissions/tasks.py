"""Celery tasks of the submission pipeline, and beat's re-queue of lost runs.

Thin: each task takes an id and calls the function it runs
(lines.submissions.pipeline.run_validation, lines.submissions.approval.run_approval),
which hold the logic and are tested without a worker. Triggers (intake, a
curator's approval request) import these tasks and publish them after commit
through lines.submissions.publish. lines.tasks re-exports them for Celery's
autodiscovery; the names stay `lines.tasks.*` (beat's schedule and messages
already queued name them so).
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from lines.models import Submission, SubmissionStatus
from lines.submissions import approval, pipeline
from lines.submissions.publish import publish_submission_task

logger = logging.getLogger(__name__)

# Errors worth another try: the database went away or refused a connection for a
# moment. Anything else is a bug or a bad document and retrying would not help.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
# Stale submissions re-queued per beat.
REQUEUE_BATCH = 500

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


@shared_task(name="lines.tasks.validate_submission", **SUBMISSION_TASK_OPTIONS)
def validate_submission(self, submission_id):
    pipeline.run_validation(submission_id)


@shared_task(name="lines.tasks.approve_submission", **SUBMISSION_TASK_OPTIONS)
def approve_submission_task(self, submission_id):
    approval.run_approval(submission_id)


@shared_task(
    name="lines.tasks.requeue_stale_submissions",
    acks_late=True,
    soft_time_limit=120,
    time_limit=150,
)
def requeue_stale_submissions():
    """Beat: validation for submissions stuck in received/validating, and approvals
    stuck in approving, are queued again."""
    return requeue_stale_validations() + requeue_stale_approvals()


def requeue_stale_validations(now=None) -> list[int]:
    """Publish validation again for stale submissions; give up (with a report) on those
    that have already used pipeline.MAX_ATTEMPTS runs. Returns the ids queued."""
    queued = []
    for submission in pipeline.stale_submissions(now).order_by("updated_at")[:REQUEUE_BATCH]:
        if submission.attempts >= pipeline.MAX_ATTEMPTS:
            pipeline.give_up(submission)
            continue
        if submission.status == SubmissionStatus.RECEIVED:
            # Touch updated_at so the next beat does not publish it again while this
            # message waits in a busy queue. (Not for `validating`: its claim needs
            # the row to stay stale until the new run takes it.)
            Submission.objects.filter(pk=submission.pk, status=SubmissionStatus.RECEIVED).update(
                updated_at=timezone.now()
            )
        if publish_submission_task(validate_submission, submission.pk, what="validation", stays="received"):
            queued.append(submission.pk)
    if queued:
        logger.info("re-queued validation of submissions %s", queued)
    return queued


def requeue_stale_approvals(now=None) -> list[int]:
    """Publish approval again for stale ones; after pipeline.MAX_ATTEMPTS runs, hand the
    submission back to the curators as `valid` (approval.hand_back_approval). Returns the ids queued."""
    queued = []
    for submission in approval.stale_approvals(now).order_by("updated_at")[:REQUEUE_BATCH]:
        if submission.approval_attempts >= pipeline.MAX_ATTEMPTS:
            approval.hand_back_approval(submission)
            continue
        if submission.approval_started_at is None:
            # Waiting in the queue: touch it so the next beat does not publish it again.
            Submission.objects.filter(
                pk=submission.pk,
                status=SubmissionStatus.APPROVING,
                approval_started_at__isnull=True,
            ).update(updated_at=timezone.now())
        if publish_submission_task(approve_submission_task, submission.pk, what="approval", stays="approving"):
            queued.append(submission.pk)
    if queued:
        logger.info("re-queued approval of submissions %s", queued)
    return queued
