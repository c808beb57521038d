"""A real worker (Redis + PostgreSQL) exports Prometheus metrics of its task runs:
count by task name and state, failures, duration, and the queue lengths, on
WORKER_METRICS_PORT (prism/worker_metrics.py)."""

import socket
import urllib.request
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.models import WorkerHeartbeat
from prism.celery import app as celery_app
from tests.celery_worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = "prism-worker-metrics-pytest"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()  # noqa: S310
    samples = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def test_the_worker_counts_runs_failures_and_time_per_task_and_the_queue_length(celery_worker_factory):
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)
    port = free_port()
    worker = celery_worker_factory(
        queue=QUEUE, extra_env={"WORKER_METRICS_PORT": str(port), "WORKER_METRICS_ADDRESS": "127.0.0.1"}
    )
    label = f"metrics-{uuid.uuid4().hex[:8]}"
    task = "core.tasks.record_heartbeat"

    celery_app.send_task(task, kwargs={"label": label}, queue=QUEUE)
    celery_app.send_task(task, kwargs={"label": label}, queue=QUEUE)
    celery_app.send_task(task, kwargs={"no_such_argument": 1}, queue=QUEUE)  # raises TypeError in the worker

    wait_for(lambda: WorkerHeartbeat.objects.filter(label=label).exists(), message=f"the runs\n{worker.log()}")
    samples = wait_for(
        lambda: (s := scrape(port)) and value(s, "prism_celery_task_failures_total", task=task) >= 1 and s,
        message=f"the failure to be counted\n{worker.log()}",
    )
    assert value(samples, "prism_celery_task_runs_total", task=task, state="SUCCESS") == 2
    assert value(samples, "prism_celery_task_runs_total", task=task, state="FAILURE") == 1
    assert value(samples, "prism_celery_task_failures_total", task=task) == 1
    assert value(samples, "prism_celery_task_duration_seconds_count", task=task) == 3
    assert value(samples, "prism_celery_task_duration_seconds_sum", task=task) > 0
    assert ("prism_queue_length", (("queue", "celery"),)) in samples


def test_a_worker_in_multiprocess_mode_creates_its_directory_and_sums_its_pool(celery_worker_factory, tmp_path):
    # docker-compose's workers: PROMETHEUS_MULTIPROC_DIR names a folder that does not exist yet.
    directory = tmp_path / "worker-metrics"
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)
    port = free_port()
    worker = celery_worker_factory(
        queue=QUEUE,
        extra_env={
            "WORKER_METRICS_PORT": str(port),
            "WORKER_METRICS_ADDRESS": "127.0.0.1",
            "PROMETHEUS_MULTIPROC_DIR": str(directory),
        },
    )
    label = f"multiproc-{uuid.uuid4().hex[:8]}"
    task = "core.tasks.record_heartbeat"
    for _ in range(3):
        celery_app.send_task(task, kwargs={"label": label}, queue=QUEUE)

    samples = wait_for(
        lambda: (s := scrape(port)) and value(s, "prism_celery_task_runs_total", task=task, state="SUCCESS") >= 3 and s,
        message=f"three runs counted\n{worker.log()}",
    )
    assert value(samples, "prism_celery_task_runs_total", task=task, state="SUCCESS") == 3
    assert any(directory.glob("*.db"))
