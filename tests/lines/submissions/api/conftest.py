"""Fixtures of the /api/v1/submissions/ tests: submit and approve as the callers do,
uploads in a temporary folder, tasks in-process.

Tasks run eagerly here (no broker), queued on commit: the tests run the commit
callbacks with django_capture_on_commit_callbacks(execute=True), as a real commit would."""

import json

import pytest

from tests.conftest import client_for
from tests.submission_helpers import SUBMISSIONS_URL as URL
from tests.submission_helpers import eager_celery


@pytest.fixture
def submit(depositor, django_capture_on_commit_callbacks):
    """POST a JSON document as the depositor and run the queued validation."""

    def _submit(document, user=None, *, params="", run=True):
        client = client_for(user or depositor)
        with django_capture_on_commit_callbacks(execute=run):
            response = client.post(URL + params, data=json.dumps(document), content_type="application/json")
        return response

    return _submit


@pytest.fixture
def approve(curator, django_capture_on_commit_callbacks):
    """POST approve as the curator and (run=True) run the queued approval after the
    answer, as a worker would."""

    def _approve(pk, user=None, *, run=True):
        with django_capture_on_commit_callbacks(execute=run):
            response = client_for(user or curator).post(f"{URL}{pk}/approve/")
        return response

    return _approve


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _eager():
    """These tests run validation in-process even where CELERY_BROKER_URL is set (CI):
    the real-worker behaviour is tests/lines/submissions/test_submission_worker.py's."""
    with eager_celery():
        yield
