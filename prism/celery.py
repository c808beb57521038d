import os

from celery import Celery
from celery.signals import beat_init, worker_init
from django.core.exceptions import ImproperlyConfigured

from prism.startup import require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prism.settings")

app = Celery("prism")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_to_start_without_a_secret_key(**kwargs):
    try:
        require_secret_key()
    except ImproperlyConfigured as exc:
        # Celery logs and swallows exceptions from signal handlers; SystemExit stops it.
        raise SystemExit(f"prism: {exc}") from exc
