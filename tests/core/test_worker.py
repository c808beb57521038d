"""The real-worker harness: a task queued on Redis runs in a separate Celery
worker process against this test session's PostgreSQL database."""

import uuid

import pytest

from core.models import WorkerHeartbeat
from core.tasks import record_heartbeat
from tests.celery_worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_queued_task_runs_in_the_real_worker_and_its_row_is_seen_here(celery_worker_process):
    label = f"test-{uuid.uuid4().hex[:12]}"

    record_heartbeat.delay(label=label)

    beat = wait_for(
        lambda: WorkerHeartbeat.objects.filter(label=label).first(),
        message=f"the worker to record heartbeat {label}\n{celery_worker_process.log()}",
    )
    # Written by the worker process, not run eagerly in this one.
    assert beat.worker == celery_worker_process.nodename


def test_a_second_run_updates_the_row_instead_of_adding_one(celery_worker_process):
    label = f"test-{uuid.uuid4().hex[:12]}"
    record_heartbeat.delay(label=label)
    first = wait_for(lambda: WorkerHeartbeat.objects.filter(label=label).first(), message="first beat")

    record_heartbeat.delay(label=label)

    wait_for(
        lambda: WorkerHeartbeat.objects.filter(label=label, seen_at__gt=first.seen_at).exists(),
        message="second beat",
    )
    assert WorkerHeartbeat.objects.filter(label=label).count() == 1
