"""The one way actions queue side effects: a Celery task published after commit.

A worker must never read rows that are not committed yet, and a rolled-back
write must send nothing, so every task an action triggers goes through here."""

from functools import partial
from typing import Any

from celery import Task
from django.db import transaction


def publish_after_commit(task: Task, *args: Any) -> None:
    """Queue `task.delay(*args)` once the surrounding transaction commits (at once outside one)."""
    transaction.on_commit(partial(task.delay, *args))
