"""A real Celery worker for the tests marked `worker`.

The worker is a separate `celery -A prism worker` process on the broker in
CELERY_BROKER_URL, connected to pytest-django's *test* database (its
DATABASE_URL names the test database), so a test queues work exactly as the
web process does and then sees what the worker committed. Tests that use it
need `transactional_db` (the `celery_worker_process` fixture requests it): rows
a test writes inside a rolled-back transaction are invisible to the worker.

Where PostgreSQL or the broker is missing the tests skip, saying why; with
PRISM_REQUIRE_SERVICES=1 (set by .ci/run) they fail instead, so CI cannot go
green without having run them.
"""

import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

from prism.celery import app as celery_app

_node_numbers = itertools.count(1)


def services_required():
    return os.environ.get("PRISM_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason):
    if services_required():
        pytest.fail(f"{reason} (PRISM_REQUIRE_SERVICES=1, so this is an error, not a skip)", pytrace=False)
    pytest.skip(reason)


def worker_services_missing():
    """Why a real worker cannot run here, or None when it can."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "needs a real worker: CELERY_BROKER_URL is not set (tasks run eagerly)"
    if connection.vendor != "postgresql":
        # SQLite's file is not shared with a test transaction the way a server is,
        # and the test database of an in-memory SQLite is invisible to another process.
        return f"needs a real worker on PostgreSQL: DATABASE_URL is {connection.vendor}"
    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # any failure to reach the broker means: no worker possible
        return f"needs a real worker: the broker at {settings.CELERY_BROKER_URL} does not answer ({exc})"
    return None


def test_database_url():
    """DATABASE_URL of the database this test session runs on (pytest-django's test_<name>)."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


class CeleryWorkerProcess:
    """One `celery worker` subprocess: start() waits until it answers a ping."""

    def __init__(self, *, queue="celery", concurrency=1, extra_env=None):
        self.queue = queue
        self.concurrency = concurrency
        self.nodename = f"pytest{os.getpid()}-{next(_node_numbers)}@{socket.gethostname()}"
        self.extra_env = extra_env or {}
        self.process = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="celery-worker-", suffix=".log", delete=False
        )

    def environment(self):
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "tests.settings",
                "DATABASE_URL": test_database_url(),
                "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                "MEDIA_ROOT": str(settings.MEDIA_ROOT),
                # A fresh connection per task: the test database is flushed between tests.
                "CONN_MAX_AGE": "0",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout=60):
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "prism",
            "worker",
            "--hostname",
            self.nodename,
            "--queues",
            self.queue,
            "--pool",
            "solo" if self.concurrency == 1 else "prefork",
            "--concurrency",
            str(self.concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ]
        self.process = subprocess.Popen(  # noqa: S603 - fixed command, our own interpreter
            command,
            cwd=Path(settings.BASE_DIR),
            env=self.environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"celery worker exited with {self.process.returncode} before answering a ping:\n{self.log()}"
                )
            if celery_app.control.ping(destination=[self.nodename], timeout=0.5):
                return self
        log = self.log()
        self.stop()
        raise RuntimeError(f"celery worker did not answer a ping within {timeout} s:\n{log}")

    def stop(self, timeout=20):
        """Warm shutdown (SIGTERM): the current task finishes first."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self):
        """SIGKILL the whole worker, as when a machine dies; unacknowledged tasks stay queued."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def discard_log(self):
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def log(self):
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")[-6000:]


def wait_for(condition, timeout=20.0, interval=0.1, message="condition"):
    """Poll `condition()` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {message}")


@pytest.fixture(scope="session")
def _celery_worker_session(django_db_setup, django_db_blocker):
    """One worker for the whole session (starting one takes a few seconds)."""
    with django_db_blocker.unblock():
        reason = worker_services_missing()
    if reason:
        skip_or_fail(reason)
    # Messages left by an aborted earlier run name rows of a dropped database.
    celery_app.control.purge()
    worker = CeleryWorkerProcess().start()
    yield worker
    worker.stop()
    worker.discard_log()


@pytest.fixture
def celery_worker_process(transactional_db, _celery_worker_session):
    """A running real Celery worker on the test database (see module docstring)."""
    if _celery_worker_session.process.poll() is not None:
        pytest.fail(f"the session's celery worker has died:\n{_celery_worker_session.log()}")
    return _celery_worker_session


@pytest.fixture
def celery_worker_factory(transactional_db, django_db_blocker):
    """Start extra workers for one test (e.g. on their own queue, or to kill one
    mid-task); each is stopped after the test. Usage: `worker = celery_worker_factory(queue="q1")`."""
    reason = worker_services_missing()
    if reason:
        skip_or_fail(reason)
    started = []

    def start(**kwargs):
        worker = CeleryWorkerProcess(**kwargs).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
        worker.discard_log()


WORKER_FIXTURES = {"celery_worker_process", "celery_worker_factory"}


@pytest.fixture(autouse=True)
def _tasks_run_in_process_unless_the_test_has_a_worker(request):
    """Where a broker is set (CI), a test that starts no worker would publish its
    tasks to Redis where nothing consumes them, and then miss their effects (mail,
    validation) that the same test sees on the embedded default. So tasks run
    in-process for every test except those marked `worker` or using a worker
    fixture, which get the real broker path."""
    if request.node.get_closest_marker("worker") or WORKER_FIXTURES & set(request.fixturenames):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def celery_eager():
    """Run tasks in this process for one test even where CELERY_BROKER_URL is set
    (CI): for tests of what a task does, not of the queue. Tests of the queue and
    the worker use `celery_worker_process` instead."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous
