"""A curator's decision to approve: recorded at once, written by a worker.

A 10,000-line approval does not fit in an HTTP request, so the web and the API
call request_approval, which marks the submission `approving` and queues
lines.submissions.approval's run after commit. (Rejection is one row:
Submission.reject.)"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from core.roles import is_curator
from lines.models import Submission
from lines.submissions.publish import publish_after_commit
from lines.submissions.tasks import approve_submission_task


def request_approval(submission: Submission, *, by: Any) -> Submission:
    """The curator's decision: record who approved and when, mark the submission
    `approving`, and (after commit) queue the worker that writes the lines. Answers
    at once. In eager mode (no broker) the task runs on commit, in this process, so
    the lines exist when this returns outside a transaction.

    Raises PermissionDenied (not a curator) or SubmissionStateError (not `valid`,
    including an approval already in progress)."""
    if not is_curator(by):
        raise PermissionDenied("Only curators approve submissions.")
    with transaction.atomic():
        submission.request_approval(by=by)
        publish_after_commit(approve_submission_task, submission.pk, what="approval", stays="approving")
    submission.refresh_from_db()
    return submission
