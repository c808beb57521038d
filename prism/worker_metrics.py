"""Prometheus metrics of the Celery workers, exported from the worker side.

Per task name: runs by final state (prism_celery_task_runs_total{task,state}),
failures (prism_celery_task_failures_total{task}) and run time
(prism_celery_task_duration_seconds{task}), recorded by Celery's task signals in
the process that ran the task; and the length of each queue the catalog uses
(prism_queue_length{queue}), read from the broker at scrape time.

A worker started with WORKER_METRICS_PORT set serves them at
http://<worker>:<port>/metrics. Under the prefork pool the tasks run in child
processes: set PROMETHEUS_MULTIPROC_DIR (a folder of its own per worker; the worker
creates it and empties it of a previous run's files as it starts, before the pool
forks, as docker/gunicorn.conf.py does for the web processes) so that one scrape
sums them all. No model is imported here: prism.celery loads this module
before Django's apps are ready."""

import os
import time

import redis
from celery.signals import task_failure, task_postrun, task_prerun, worker_init, worker_ready
from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess, start_http_server
from prometheus_client.core import GaugeMetricFamily

TASK_RUNS = Counter("prism_celery_task_runs", "Celery task runs by task name and final state.", ["task", "state"])
TASK_FAILURES = Counter("prism_celery_task_failures", "Celery task runs that raised, by task name.", ["task"])
TASK_DURATION = Histogram(
    "prism_celery_task_duration_seconds",
    "Run time of Celery tasks, by task name.",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, float("inf")),
)

_started: dict[str, float] = {}


def queue_lengths() -> dict[str, int]:
    """Messages waiting per queue, for a Redis broker ({} otherwise or when it is away)."""
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL.startswith("redis"):
        return {}
    names = {"celery", settings.SUBMISSION_QUEUE or "celery"}
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=2)
        return {name: client.llen(name) for name in sorted(names)}
    except redis.RedisError:
        return {}


class QueueCollector:
    """prism_queue_length{queue}, computed when Prometheus scrapes."""

    def collect(self):
        queues = GaugeMetricFamily("prism_queue_length", "Tasks waiting in each Celery queue.", labels=["queue"])
        for name, length in queue_lengths().items():
            queues.add_metric([name], length)
        yield queues


@task_prerun.connect
def _task_started(task_id=None, **kwargs):
    if task_id:
        _started[task_id] = time.monotonic()


@task_postrun.connect
def _task_finished(task_id=None, task=None, state=None, **kwargs):
    started = _started.pop(task_id, None) if task_id else None
    name = getattr(task, "name", "unknown")
    TASK_RUNS.labels(task=name, state=state or "UNKNOWN").inc()
    if started is not None:
        TASK_DURATION.labels(task=name).observe(time.monotonic() - started)


@task_failure.connect
def _task_failed(sender=None, **kwargs):
    TASK_FAILURES.labels(task=getattr(sender, "name", "unknown")).inc()


def worker_registry() -> CollectorRegistry:
    """What a worker's scrape answers: every pool process's task metrics (multiprocess
    mode) or this process's, and the queue lengths."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(QueueCollector())
    return registry


class _ThisProcess:
    def collect(self):
        yield from REGISTRY.collect()


@worker_init.connect
def prepare_multiprocess_directory(**kwargs):
    """An existing, empty PROMETHEUS_MULTIPROC_DIR: a missing one fails every task's
    first count, and a previous run's files would be summed into this run's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


@worker_ready.connect
def _serve_worker_metrics(**kwargs):
    if settings.WORKER_METRICS_PORT:
        start_http_server(
            settings.WORKER_METRICS_PORT, addr=settings.WORKER_METRICS_ADDRESS, registry=worker_registry()
        )
