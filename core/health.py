"""The health endpoint (/health/, django-health-check): database, cache, the broker,
a worker's heartbeat (core.WorkerHeartbeat, written every minute by beat through a
worker), and the media disk (writable, with free space). docker-compose's web
health check asks it; an operator or a load balancer may too. 200 when all pass,
500 naming what failed; `?format=json` for machines."""

import dataclasses
import shutil

from celery import current_app
from django.conf import settings
from django.db import connection
from django.utils import timezone
from health_check import checks
from health_check.base import HealthCheck
from health_check.checks import Cache, Storage
from health_check.exceptions import ServiceUnavailable, ServiceWarning
from health_check.views import HealthCheckView

from core.models import WorkerHeartbeat


@dataclasses.dataclass
class Database(checks.Database):
    """django-health-check's, closing its thread's connection afterwards (the checks
    run in a thread pool whose connections would otherwise stay open)."""

    def run(self):
        try:
            super().run()
        finally:
            connection.close()


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker answers (skipped when tasks run in-process, with no broker)."""

    def run(self):
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return
        try:
            with current_app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=3)
        except Exception as error:  # noqa: BLE001 — kombu raises many kinds for an unreachable broker
            raise ServiceUnavailable(f"the broker does not answer ({error.__class__.__name__})") from None


@dataclasses.dataclass
class WorkerAlive(HealthCheck):
    """A worker ran beat's heartbeat task lately (settings.HEALTH_WORKER_STALE_SECONDS)."""

    def run(self):
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return
        try:
            last = WorkerHeartbeat.objects.filter(label="beat").values_list("seen_at", flat=True).first()
        finally:
            connection.close()  # this thread's own
        if last is None:
            raise ServiceUnavailable("no worker has recorded a heartbeat yet (is beat running?)")
        age = (timezone.now() - last).total_seconds()
        if age > settings.HEALTH_WORKER_STALE_SECONDS:
            raise ServiceUnavailable(f"the last worker heartbeat is {age:,.0f} s old")


@dataclasses.dataclass
class MediaDisk(HealthCheck):
    """Free space where uploads are stored (settings.MEDIA_ROOT)."""

    def run(self):
        root = settings.MEDIA_ROOT
        root.mkdir(parents=True, exist_ok=True)
        free_mb = shutil.disk_usage(root).free / (1024 * 1024)
        if free_mb < settings.HEALTH_MEDIA_MIN_FREE_MB:
            raise ServiceUnavailable(
                f"{free_mb:,.0f} MB free for media; at least {settings.HEALTH_MEDIA_MIN_FREE_MB:,} needed"
            )
        if free_mb < 4 * settings.HEALTH_MEDIA_MIN_FREE_MB:
            raise ServiceWarning(f"only {free_mb:,.0f} MB free for media")


health = HealthCheckView.as_view(checks=[Database, Cache, Storage, Broker, WorkerAlive, MediaDisk])
