"""The request id of an upload follows its submission into the validation task
run by a REAL worker (Redis + PostgreSQL): the worker's JSON log lines of that
task carry the id the upload request was given (X-Request-ID)."""

import json

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from core.roles import ROLES
from core.vocabulary import load_builtin
from lines.models import ProtocolVersion, Submission
from lines.submissions.protocol import V1_IDENTIFIER, V1_SETTINGS, schema_for
from prism.celery import app as celery_app
from tests.celery_worker import wait_for
from tests.conftest import client_for
from tests.submission_helpers import SUBMISSIONS_URL, as_bytes, submission_document

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = "prism-request-id-pytest"


@pytest.fixture(autouse=True)
def _data_migrations(transactional_db):
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    load_builtin(apps)
    ProtocolVersion.objects.get_or_create(
        number=1, defaults={"identifier": V1_IDENTIFIER, "schema": schema_for(1), "settings": V1_SETTINGS}
    )


def json_lines(text):
    lines = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            lines.append(entry)
    return lines


def test_the_worker_logs_the_validation_task_with_the_upload_requests_id(
    celery_worker_factory, depositor, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SUBMISSION_QUEUE = QUEUE
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)
    worker = celery_worker_factory(queue=QUEUE, extra_env={"SUBMISSION_QUEUE": QUEUE, "LOG_FORMAT": "json"})

    response = client_for(depositor).post(
        SUBMISSIONS_URL,
        data=as_bytes(submission_document(1)),
        content_type="application/json",
        HTTP_X_REQUEST_ID="upload-h12-777",
    )
    assert response.status_code == 202, response.content
    pk = response.json()["id"]
    wait_for(
        lambda: Submission.objects.filter(pk=pk).exclude(status__in=["received", "validating"]).exists(),
        timeout=60,
        message=f"the worker to validate submission {pk}\n{worker.log()}",
    )
    wait_for(lambda: "succeeded" in worker.log(), message=f"the task's success line\n{worker.log()}")

    task_lines = [e for e in json_lines(worker.log()) if "validate_submission" in e.get("message", "")]
    assert task_lines, f"the worker should log the task's run as JSON lines:\n{worker.log()}"
    assert {e["request_id"] for e in task_lines if "succeeded" in e["message"]} == {"upload-h12-777"}
