"""Health tasks of the Celery side of the catalog."""

from celery import shared_task
from django.utils import timezone

from core.models import WorkerHeartbeat


@shared_task(bind=True, ignore_result=True, soft_time_limit=20, time_limit=30)
def record_heartbeat(self, label="beat"):
    """Note which worker ran this and when. Eagerly run tasks record "eager"."""
    worker = "eager" if self.request.is_eager else self.request.hostname
    WorkerHeartbeat.objects.update_or_create(label=label, defaults={"worker": worker, "seen_at": timezone.now()})
