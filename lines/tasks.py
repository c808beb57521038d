"""Celery tasks of the lines app, where Celery's autodiscovery looks for them. The
submission tasks live with the pipeline they run (lines.submissions.tasks)."""

from lines.submissions.tasks import (
    approve_submission_task,
    requeue_stale_submissions,
    validate_submission,
)

__all__ = ["approve_submission_task", "requeue_stale_submissions", "validate_submission"]
