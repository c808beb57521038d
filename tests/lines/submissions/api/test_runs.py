"""The runs behind the API: approval in the worker (claims, redelivery, beat), validation
runs and their claims, beat's re-queue, and the heartbeat of a running validation."""

import json
import time as clock
from datetime import timedelta

import pytest
from django.utils import timezone

from lines.models import CellLine, Submission
from lines.submissions import approval, pipeline, tasks
from tests.conftest import client_for
from tests.factories import SubmissionFactory
from tests.submission_helpers import SUBMISSIONS_URL as URL
from tests.submission_helpers import detail, submission_document

pytestmark = pytest.mark.django_db


# --- approval in the worker ---------------------------------------------------------
def test_a_second_approval_while_one_is_in_progress_is_a_409_and_the_worker_writes_once(
    depositor, curator, submit, approve
):
    pk = submit(submission_document(2)).json()["id"]
    first = approve(pk, run=False)  # queued; no worker has taken it yet
    assert first.status_code == 202 and first.json()["status"] == "approving"
    assert not CellLine.objects.exists()
    # The depositor sees that the approval is in progress.
    assert detail(depositor, pk).json()["status"] == "approving"

    again = approve(pk)
    assert again.status_code == 409 and "in progress" in again.json()["detail"]
    assert again.json()["status"] == "approving"
    rejected = client_for(curator).post(f"{URL}{pk}/reject/", {"reason": "changed my mind"}, format="json")
    assert rejected.status_code == 409

    # The worker: the first delivery writes the lines, a redelivery does nothing.
    assert len(approval.run_approval(pk)) == 2
    assert approval.run_approval(pk) is None
    assert CellLine.objects.filter(submission_id=pk).count() == 2
    body = detail(depositor, pk).json()
    assert body["status"] == "approved" and body["decided_by"] == "cora" and len(body["lines"]) == 2


def test_a_worker_holding_the_approval_claim_keeps_a_redelivery_out(depositor, submit, approve):
    pk = submit(submission_document(1)).json()["id"]
    approve(pk, run=False)
    submission = Submission.objects.get(pk=pk)
    assert submission.claim_for_approval()
    assert approval.run_approval(pk) is None  # the first run is alive: hands off
    assert Submission.objects.get(pk=pk).status == "approving"
    assert not CellLine.objects.exists()


def test_beat_requeues_a_stuck_approval_and_hands_back_a_hopeless_one(depositor, curator, submit, approve):
    crashed = submit(submission_document(1)).json()["id"]
    hopeless = submit(submission_document(1, seed=9)).json()["id"]
    fresh = submit(submission_document(1, seed=8)).json()["id"]
    for pk in (crashed, hopeless, fresh):
        assert approve(pk, run=False).status_code == 202
    # A worker took `crashed` and died mid-write: its one transaction rolled back,
    # so only the claim is left.
    assert Submission.objects.get(pk=crashed).claim_for_approval()
    old = timezone.now() - timedelta(hours=1)
    Submission.objects.filter(pk__in=[crashed, hopeless]).update(updated_at=old, approval_started_at=old)
    Submission.objects.filter(pk=hopeless).update(approval_attempts=pipeline.MAX_ATTEMPTS)

    assert tasks.requeue_stale_approvals() == [crashed]
    taken_over = Submission.objects.get(pk=crashed)
    assert taken_over.status == "approved" and taken_over.approval_attempts == 2  # eager: ran at once
    assert taken_over.decided_by == curator
    assert CellLine.objects.filter(submission_id=crashed).count() == 1
    assert Submission.objects.get(pk=fresh).status == "approving"  # not stale yet
    handed_back = Submission.objects.get(pk=hopeless)
    assert handed_back.status == "valid" and handed_back.decided_by is None
    assert not CellLine.objects.filter(submission_id__in=[hopeless, fresh]).exists()


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_a_small_approval_is_done_when_the_answer_comes(depositor, curator):
    """`make run` (SQLite, eager Celery): the task runs on commit, in the request."""
    client = client_for(depositor)
    pk = client.post(URL, data=json.dumps(submission_document(2)), content_type="application/json").json()["id"]
    assert detail(depositor, pk).json()["status"] == "valid"
    response = client_for(curator).post(f"{URL}{pk}/approve/")
    assert response.status_code == 202
    assert response.json()["status"] == "approved" and len(response.json()["lines"]) == 2
    assert CellLine.objects.filter(submission_id=pk, status="released").count() == 2


# --- the pipeline pieces without HTTP -----------------------------------------------
def test_a_second_validation_run_of_a_claimed_submission_does_nothing(depositor, submit):
    pk = submit(submission_document(1), run=False).json()["id"]
    submission = Submission.objects.get(pk=pk)
    assert submission.claim_for_validation()
    # A redelivered message while the first run is alive: the claim fails, nothing changes.
    assert pipeline.run_validation(pk) is None
    submission.refresh_from_db()
    assert submission.status == "validating" and submission.attempts == 1
    # Once the run has gone quiet past the time-out, another run may take over.
    Submission.objects.filter(pk=pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert pipeline.run_validation(pk) is not None
    submission.refresh_from_db()
    assert submission.status == "valid" and submission.attempts == 2


def test_validation_of_a_deleted_submission_returns_quietly(db):
    assert pipeline.run_validation(123456) is None


def test_beat_requeues_stale_submissions_and_gives_up_after_too_many_attempts(
    depositor, submit, django_capture_on_commit_callbacks
):
    stuck = submit(submission_document(1), run=False).json()["id"]
    hopeless = submit(submission_document(1, seed=9), run=False).json()["id"]
    fresh = submit(submission_document(1, seed=8), run=False).json()["id"]
    old = timezone.now() - timedelta(hours=1)
    Submission.objects.filter(pk__in=[stuck, hopeless]).update(updated_at=old)
    Submission.objects.filter(pk=hopeless).update(status="validating", attempts=pipeline.MAX_ATTEMPTS)

    queued = tasks.requeue_stale_validations()
    assert queued == [stuck]
    assert Submission.objects.get(pk=stuck).status == "valid"  # eager: ran at once
    assert Submission.objects.get(pk=fresh).status == "received"  # not stale yet
    gave_up = Submission.objects.get(pk=hopeless)
    assert gave_up.status == "invalid"
    assert gave_up.findings[0]["rule"] == "PIPELINE" and "kept" in gave_up.findings[0]["message"]


def test_a_submission_whose_report_was_stored_is_not_overwritten_by_a_late_run(depositor, submit):
    pk = submit(submission_document(1)).json()["id"]
    submission = Submission.objects.get(pk=pk)
    stale_copy = Submission.objects.get(pk=pk)
    stale_copy.status, stale_copy.attempts = "validating", 0
    assert stale_copy.record_findings([{"rule": "QC-1", "severity": "error"}]) is False
    submission.refresh_from_db()
    assert submission.status == "valid" and submission.findings == []


@pytest.mark.django_db(transaction=True)
def test_a_running_validation_keeps_its_heartbeat_while_the_validator_is_silent(settings, tmp_path):
    """Reading a large workbook gives no progress for a long time; the run must still
    not look stale to the beat re-queue."""
    settings.SUBMISSION_STALE_AFTER = timedelta(seconds=1.5)
    submission = SubmissionFactory(status="validating", attempts=1)
    long_ago = timezone.now() - timedelta(hours=1)
    Submission.objects.filter(pk=submission.pk).update(updated_at=long_ago)

    with pipeline._Heartbeat(submission):
        clock.sleep(1.3)
        beating = Submission.objects.get(pk=submission.pk).updated_at
        assert beating > long_ago + timedelta(minutes=59)
        assert not pipeline.stale_submissions().filter(pk=submission.pk).exists()
    clock.sleep(0.8)
    assert Submission.objects.get(pk=submission.pk).updated_at >= beating
    stopped = Submission.objects.get(pk=submission.pk).updated_at
    clock.sleep(0.8)
    assert Submission.objects.get(pk=submission.pk).updated_at == stopped  # no beats after the run
