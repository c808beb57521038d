"""gunicorn settings for the web container; each can be overridden from the environment."""

import os
import tempfile

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Two workers per core is gunicorn's own rule of thumb for sync workers.
workers = int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) * 2))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# Submissions of 10,000 lines are uploaded in one request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
# Recycling workers bounds memory growth from large uploads.
max_requests = 1000
max_requests_jitter = 100
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


# Prometheus metrics of every worker process in one scrape (prism/metrics.py);
# set here, so that only gunicorn (not Celery or migrate) runs in multiprocess mode.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), "prism-prometheus"))


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess  # noqa: PLC0415 — only in multiprocess mode

        multiprocess.mark_process_dead(worker.pid)
