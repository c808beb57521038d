"""Workers that lose nothing: real Celery workers on Redis and PostgreSQL.

(a) a worker SIGKILLed in the middle of a large submission; a restarted worker
    gets the unacknowledged message back (Redis visibility timeout) and finishes
    it: one report, no duplicate rows;
(b) a submission made (and then approved) while the broker cannot be reached is
    saved and answered 202, and is validated (approved) once the beat re-queue
    publishes it again;
(c) the same document submitted twice gives two submissions and, approved at the
    same moment by two curators (the API answers 202, two workers write), never
    duplicate lines: one is approved, the other invalid with a finding.

The web side here is this test process (API client); the workers are separate
`celery worker` processes (tests/celery_worker.py) on a queue of their own, so
no other test's worker takes these messages. Redis is never stopped (other
sessions share it): the outage in (b) is the web side pointed at a dead port.
"""

import contextlib
import json
import threading
import time
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from core.roles import ROLES
from core.vocabulary import load_builtin
from lines.models import CellLine, ProtocolVersion, Submission
from lines.submissions import tasks
from lines.submissions.approval import approve_submission
from lines.submissions.protocol import V1_IDENTIFIER, V1_SETTINGS, schema_for
from prism.celery import app as celery_app
from tests.celery_worker import wait_for
from tests.conftest import client_for
from tests.submission_helpers import submission_document

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = "prism-submissions-pytest"
STALE_SECONDS = 2
# Seconds before a restarted worker takes back a dead worker's unacknowledged message.
VISIBILITY_SECONDS = 4
DEAD_BROKER = "redis://127.0.0.1:6390/0"  # nothing listens there


@pytest.fixture(autouse=True)
def _data_migrations(transactional_db):
    """A transactional test's flush also empties what data migrations wrote (roles,
    built-in vocabularies, protocol version 1): write them again. (Not
    serialized_rollback: it collides with the content types an earlier flush re-created.)"""

    for role in ROLES:
        Group.objects.get_or_create(name=role)
    load_builtin(apps)
    ProtocolVersion.objects.get_or_create(
        number=1,
        defaults={"identifier": V1_IDENTIFIER, "schema": schema_for(1), "settings": V1_SETTINGS},
    )


@pytest.fixture(autouse=True)
def _pipeline_settings(settings, _data_migrations, tmp_path):
    # Workers started after this see the same upload folder (CeleryWorkerProcess passes MEDIA_ROOT).
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SUBMISSION_QUEUE = QUEUE
    settings.SUBMISSION_STALE_AFTER = timedelta(seconds=STALE_SECONDS)


@pytest.fixture
def start_worker(celery_worker_factory):
    def start():
        return celery_worker_factory(
            queue=QUEUE,
            extra_env={
                "SUBMISSION_QUEUE": QUEUE,
                "SUBMISSION_STALE_SECONDS": str(STALE_SECONDS),
                "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
            },
        )

    # Messages of an aborted earlier run would name rows of a dropped database.
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)
    return start


def post_document(user, document):
    response = client_for(user).post("/api/v1/submissions/", data=json.dumps(document), content_type="application/json")
    assert response.status_code == 202, response.content
    return Submission.objects.get(pk=response.json()["id"])


def status_of(submission):
    return Submission.objects.filter(pk=submission.pk).values_list("status", flat=True).get()


@contextlib.contextmanager
def web_side_broker(url):
    """Point this process's publishing at `url` (the workers keep the real broker)."""
    previous = celery_app.conf.broker_url, celery_app.conf.broker_write_url
    eager = celery_app.conf.task_always_eager

    def reset_pools():
        # Forget (not close) the cached pools: kombu keeps one producer pool per
        # broker URL, and the real broker's must still work afterwards.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    reset_pools()
    # Celery publishes through broker_write_url (filled in from broker_url at start).
    celery_app.conf.broker_url = celery_app.conf.broker_write_url = url
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        reset_pools()
        celery_app.conf.broker_url, celery_app.conf.broker_write_url = previous
        celery_app.conf.task_always_eager = eager


N_KILLED = 3000


def test_a_worker_killed_mid_submission_is_replaced_and_the_submission_finishes_once(start_worker, depositor, curator):
    first = start_worker()
    # Large enough that validation (schema check compiled, issue 17) outlasts the kill.
    document = submission_document(N_KILLED, donors=N_KILLED // 5)
    submission = post_document(depositor, document)

    wait_for(
        lambda: status_of(submission) == "validating",
        timeout=60,
        message=f"the first worker to claim the submission\n{first.log()}",
    )
    first.kill()  # SIGKILL: no warm shutdown, the message is never acknowledged
    submission.refresh_from_db()
    assert submission.status == "validating", "the run finished before the kill: make the document larger"
    assert submission.attempts == 1 and submission.findings == []

    # Past the visibility timeout and the stale time-out, a new worker starts:
    # Redis hands it the unacknowledged message, and its claim takes the row over.
    time.sleep(max(VISIBILITY_SECONDS, STALE_SECONDS) + 0.5)
    second = start_worker()
    wait_for(
        lambda: status_of(submission) in ("valid", "invalid"),
        timeout=120,
        message=f"the restarted worker to finish the submission\n{second.log()}",
    )

    submission.refresh_from_db()
    assert submission.status == "valid", submission.findings[:5]
    assert submission.attempts == 2
    assert submission.progress_done == submission.progress_total == N_KILLED
    assert submission.findings == [] and submission.error_count == 0
    assert Submission.objects.count() == 1
    # One report, and approval writes each line once.
    approve_submission(submission, by=curator)
    assert CellLine.objects.count() == N_KILLED
    assert CellLine.objects.values("name").distinct().count() == N_KILLED


def test_a_submission_made_while_the_broker_is_down_is_saved_and_validated_later(start_worker, depositor, curator):
    worker = start_worker()
    document = submission_document(2)

    with web_side_broker(DEAD_BROKER):
        started = time.monotonic()
        submission = post_document(depositor, document)  # asserts 202
        elapsed = time.monotonic() - started
    assert elapsed < 5, f"the request waited {elapsed:.1f} s on the dead broker"
    assert status_of(submission) == "received"
    with submission.document.open("rb") as handle:
        assert json.loads(handle.read()) == document

    # Nothing reached the worker.
    time.sleep(1)
    assert status_of(submission) == "received"

    # The broker is back; beat finds the stale submission and publishes it again.
    Submission.objects.filter(pk=submission.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert tasks.requeue_stale_validations() == [submission.pk]
    wait_for(
        lambda: status_of(submission) == "valid",
        timeout=60,
        message=f"the worker to validate the re-queued submission\n{worker.log()}",
    )
    submission.refresh_from_db()
    assert submission.attempts == 1 and submission.findings == []

    # The same for an approval: recorded and answered while the broker is away,
    # written once beat publishes it again.
    with web_side_broker(DEAD_BROKER):
        started = time.monotonic()
        response = client_for(curator).post(f"/api/v1/submissions/{submission.pk}/approve/")
        elapsed = time.monotonic() - started
    assert response.status_code == 202 and response.json()["status"] == "approving", response.content
    assert elapsed < 5, f"the approval waited {elapsed:.1f} s on the dead broker"
    time.sleep(1)
    assert status_of(submission) == "approving" and not CellLine.objects.exists()
    Submission.objects.filter(pk=submission.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert tasks.requeue_stale_approvals() == [submission.pk]
    wait_for(
        lambda: status_of(submission) == "approved",
        timeout=60,
        message=f"the worker to write the re-queued approval\n{worker.log()}",
    )
    assert CellLine.objects.filter(submission=submission).count() == 2


def test_the_same_document_twice_never_gives_duplicate_lines_even_approved_at_once(start_worker, depositor, curator):
    worker = start_worker()
    document = submission_document(3, donors=3)
    twins = [post_document(depositor, document), post_document(depositor, document)]
    assert twins[0].pk != twins[1].pk
    wait_for(
        lambda: all(status_of(s) == "valid" for s in twins),
        timeout=60,
        message=f"both submissions to be validated\n{worker.log()}",
    )

    # A second worker, so the two approvals really run at the same time.
    other = start_worker()

    # Two curators press approve at the same moment; each gets 202 at once.
    barrier = threading.Barrier(2)
    answers = {}

    def approve(submission):
        try:
            barrier.wait(10)
            answers[submission.pk] = client_for(curator).post(f"/api/v1/submissions/{submission.pk}/approve/")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(s,)) for s in twins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(r.status_code for r in answers.values()) == [202, 202], {pk: r.content for pk, r in answers.items()}
    wait_for(
        lambda: all(status_of(s) in ("approved", "invalid") for s in twins),
        timeout=60,
        message=f"the workers to finish both approvals\n{worker.log()}\n{other.log()}",
    )
    assert CellLine.objects.count() == 3
    assert CellLine.objects.values("donor").distinct().count() == 3
    statuses = sorted(status_of(s) for s in twins)
    assert statuses == ["approved", "invalid"]
    loser = next(s for s in twins if status_of(s) == "invalid")
    loser.refresh_from_db()
    assert loser.findings and loser.error_count >= 1
