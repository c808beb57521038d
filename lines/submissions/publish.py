"""Publishing a submission task: the one helper every trigger goes through.

Triggers (intake, a curator's approval) publish after commit, so a worker never
looks for a row that is not there yet; a broker that cannot be reached is logged,
not raised: the row is committed either way and beat publishes it again."""

import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from core.request_id import request_id

logger = logging.getLogger(__name__)


def publish_submission_task(task: Any, submission_id: int, *, what: str, stays: str) -> bool:
    """Publish `task` for a submission now; False (logged) when the broker cannot be
    reached. The submission stays `stays` and requeue_stale_submissions publishes it again."""
    try:
        # retry=False: the caller's request must not hang on a dead broker.
        options = {"queue": settings.SUBMISSION_QUEUE} if settings.SUBMISSION_QUEUE else {}
        # The request id goes along, so the task's log lines carry it (core.request_id).
        task.apply_async(args=[submission_id], retry=False, headers={"request_id": request_id()}, **options)
        return True
    except Exception:  # noqa: BLE001 — any publish failure; the row is committed and beat retries
        if task.app.conf.task_always_eager:
            # Eager mode runs the task in this process: a failure here is a bug, not a broker outage.
            logger.exception("%s of submission %s failed in-process", what, submission_id)
        else:
            logger.exception(
                "could not queue %s of submission %s; it stays %s and will be re-queued",
                what,
                submission_id,
                stays,
            )
        return False


def publish_after_commit(task: Any, submission_id: int, *, what: str, stays: str) -> None:
    """publish_submission_task once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: publish_submission_task(task, submission_id, what=what, stays=stays))
