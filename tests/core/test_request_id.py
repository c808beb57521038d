"""Structured logs with a request id that follows a submission into its task
(core/request_id.py): the response says the id, every log line of the request and
of the validation it queued carries it, and LOG_FORMAT=json writes JSON lines."""

import io
import json
import logging

import pytest

from core.request_id import JsonFormatter, RequestIdFilter
from tests.conftest import client_for
from tests.submission_helpers import SUBMISSIONS_URL, as_bytes, eager_celery, submission_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log():
    """Every log record as the production handler writes it (filter + JSON)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(previous)


def test_every_response_names_its_request_id(client):
    given = client.get("/api/v1/lines/", HTTP_X_REQUEST_ID="trace-1234")
    assert given["X-Request-ID"] == "trace-1234"
    made = client.get("/api/v1/lines/", HTTP_X_REQUEST_ID="not valid; <script>")
    assert made["X-Request-ID"] != "not valid; <script>" and len(made["X-Request-ID"]) == 32


@pytest.mark.django_db(transaction=True)  # the task is queued on commit, inside the request, as in production
def test_the_id_of_a_deposit_follows_it_into_its_validation_task(depositor, json_log, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with eager_celery():
        response = client_for(depositor).post(
            SUBMISSIONS_URL,
            data=as_bytes(submission_document(1)),
            content_type="application/json",
            HTTP_X_REQUEST_ID="deposit-42",
        )
    assert response.status_code == 202
    task_lines = [e for e in json_log() if e["logger"].startswith("celery") and "validate_submission" in e["message"]]
    assert task_lines, "the validation task should have logged its run"
    assert {e["request_id"] for e in task_lines} == {"deposit-42"}
    assert {"time", "level", "logger", "message", "request_id"} <= set(task_lines[0])
