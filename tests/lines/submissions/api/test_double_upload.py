"""A double-posted upload made two submissions: with the form's key (or the API's
Idempotency-Key header) parallel posts make one, on PostgreSQL."""

import io

import pytest
from django.test import Client

from lines.models import Submission
from tests.conftest import client_for
from tests.parallel import at_once, require_postgres
from tests.submission_helpers import SUBMISSIONS_URL, as_bytes, submission_document

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres():
    require_postgres()


def test_a_double_posted_upload_form_makes_one_submission(depositor):
    client = Client()
    client.force_login(depositor)
    page = client.get("/submissions/new/").content.decode()
    key = page.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
    content = as_bytes(submission_document(1))

    def post(_):
        upload = io.BytesIO(content)
        upload.name = "deposit.json"
        return client.post(
            "/submissions/new/",
            {"file": upload, "protocol": "prism-line-submission/1", "format": "json", "idempotency_key": key},
        )

    answers = at_once(3, post)
    submission = Submission.objects.get()
    assert {answer.status_code for answer in answers} == {302}
    assert {answer["Location"] for answer in answers} == {f"/submissions/{submission.pk}/"}


def test_parallel_api_deposits_with_one_key_make_one_submission(depositor):
    api = client_for(depositor)
    content = as_bytes(submission_document(1))

    def post(_):
        return api.post(SUBMISSIONS_URL, data=content, content_type="application/json", HTTP_IDEMPOTENCY_KEY="same")

    answers = at_once(3, post)
    assert {answer.status_code for answer in answers} == {202}
    assert {answer.json()["id"] for answer in answers} == {Submission.objects.get().pk}
