import logging.config
import os

from celery import Celery
from celery.signals import beat_init, setup_logging, task_postrun, task_prerun, worker_init
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.request_id import current_request_id, request_id, set_request_id
from prism import worker_metrics  # noqa: F401 — its task signals count every run
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


@setup_logging.connect
def _log_as_the_web_processes_do(**kwargs):
    """The worker logs through settings.LOGGING (LOG_FORMAT=json gives JSON lines with
    the request id), not Celery's own handlers, which would drop the request id."""
    logging.config.dictConfig(settings.LOGGING)


@task_prerun.connect
def _request_id_of_the_task(task=None, **kwargs):
    """The id of the request that queued the task (its `request_id` header, or the
    request's own when run eagerly), else the task's own id: every log line of the run carries it (core.request_id)."""
    headers = getattr(task.request, "headers", None) or {}
    given = getattr(task.request, "request_id", None) or headers.get("request_id")
    # Run eagerly (in the web process) the request's own id is already there.
    task.request._prism_request_id_token = set_request_id(given or request_id() or task.request.id)


@task_postrun.connect
def _forget_the_request_id(task=None, **kwargs):
    token = getattr(task.request, "_prism_request_id_token", None)
    if token is not None:
        current_request_id.reset(token)
