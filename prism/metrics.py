"""Prometheus metrics at /metrics (django-prometheus): requests and responses by
view and status, latency, exceptions (its middleware); the catalog's own gauges,
read at scrape time: the length of each Celery queue the catalog uses and the
submissions in each status (validation runs waiting, running, done).

/metrics answers a scraper that sends `Authorization: Bearer <METRICS_TOKEN>`, or
any caller from a loopback address when no token is set; everyone else gets 404.
Under gunicorn's several processes set PROMETHEUS_MULTIPROC_DIR (docker/gunicorn.conf.py
prepares it) so that one scrape sums them all."""

import hmac
import ipaddress
import os

from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from lines.models import Submission
from prism.worker_metrics import queue_lengths


class CatalogCollector:
    """Queue lengths and submissions by status, computed when Prometheus scrapes."""

    def collect(self):
        submissions = GaugeMetricFamily("prism_submissions", "Submissions by status.", labels=["status"])
        for row in Submission.objects.values("status").annotate(n=Count("pk")).order_by():
            submissions.add_metric([row["status"]], row["n"])
        yield submissions
        queues = GaugeMetricFamily("prism_queue_length", "Tasks waiting in each Celery queue.", labels=["queue"])
        for name, length in queue_lengths().items():
            queues.add_metric([name], length)
        yield queues


def _registry():
    """Every process's metrics under gunicorn's multiprocess mode, else this process's;
    with the catalog's gauges either way."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessMetrics())
    registry.register(CatalogCollector())
    return registry


class _ProcessMetrics:
    """This process's metrics (django-prometheus's, Python's): the default registry's."""

    def collect(self):
        yield from REGISTRY.collect()


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(sent, token)
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def metrics(request):
    if not _allowed(request):
        raise Http404
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
