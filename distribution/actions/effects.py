"""The one way actions queue side effects: a Celery task published after commit.

A worker must never read rows that are not committed yet, and a rolled-back
write must send nothing, so every task an action triggers goes through here."""

from functools import partial
from typing import Any

from celery import Task
from django.db import transaction
from django.db.models import Model


def publish_after_commit(task: Task, *args: Any) -> None:
    """Queue `task.delay(*args)` once the surrounding transaction commits (at once outside one)."""
    transaction.on_commit(partial(task.delay, *args))


def record_author(obj: Model, user: Any, reason: str | None = None) -> None:
    """Say who made the change about to be saved (and why), for its simple_history record."""
    obj._history_user = user  # type: ignore[attr-defined]
    if reason is not None:
        obj._change_reason = reason  # type: ignore[attr-defined]
