"""Approving a submission: the one workflow that writes the catalog from a document.

`approve_submission(submission, by=curator)` re-checks what may have changed since
validation (names taken, catalog donors and parental lines gone, the same
document approved already), assigns the hPSCreg names the document left empty,
and writes donors, consent, variants, lines (parental lines, modification) and
QC records in one transaction; then the lines are released. Any conflict leaves
the catalog untouched and the submission `invalid` with a finding saying why,
so the depositor can send a corrected document.
"""

import datetime
import logging
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.gc_pause import gc_paused
from core.models import Institution
from core.roles import is_curator
from lines.models import (
    CellLine,
    Submission,
    SubmissionStateError,
    SubmissionStatus,
)
from lines.str import store as str_store
from lines.submissions.documents import load_document
from lines.submissions.writer import Conflict, Plan, finding, short_error

logger = logging.getLogger(__name__)

# A direct approval (approve_submission) starts from `valid`; a worker's from `approving`.
APPROVABLE = (SubmissionStatus.VALID, SubmissionStatus.APPROVING)

QC_FIELDS = {"test", "method", "result", "passage", "date", "testing_lab"}


class ApprovalConflict(Exception):
    """Approval found something the validation could not have known; the submission is
    now invalid and carries these findings (HTTP 409)."""

    def __init__(self, submission, findings):
        self.submission = submission
        self.findings = findings
        super().__init__("; ".join(f["message"] for f in findings))


def approve_submission(submission: Submission, *, by: Any) -> list[CellLine]:
    """Write the submission's donors, consent, variants, lines and QC, release the lines,
    and mark the submission approved by `by`, here and now. Returns the created lines.
    The web and API request an approval instead (lines.submissions.review.request_approval)
    and a worker runs it (run_approval).

    Raises PermissionDenied (not a curator), SubmissionStateError (not `valid` or
    `approving`), or ApprovalConflict (the catalog changed since validation; nothing written)."""
    if not is_curator(by):
        raise PermissionDenied("Only curators approve submissions.")
    return _write(submission, by)


def _write(submission, by):
    try:
        with gc_paused(), transaction.atomic():
            return _approve(submission.pk, by)
    except Conflict as conflict:
        findings = conflict.findings
    except IntegrityError as exc:
        # A unique name, accession or donor number taken between our re-check and
        # the insert (another institution's line cannot collide: names carry the code).
        logger.warning("approval of submission %s hit a uniqueness conflict: %s", submission.pk, exc)
        findings = [
            finding(
                "NAME-3",
                "",
                "Approval found a name, donor number or Cellosaurus accession that is already in the "
                f"catalog ({short_error(exc)}). Nothing was written; correct the document and submit it again.",
            )
        ]
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.status in APPROVABLE:
            locked.invalidate(findings)
    submission.refresh_from_db()
    raise ApprovalConflict(submission, findings)


def run_approval(submission_id: int) -> list[CellLine] | None:
    """The worker's side: claim the requested approval and write it in one transaction.
    Safe to call twice: a second call returns None while the first holds the claim
    or once the submission is approved. Returns the created lines, or [] when the
    approval ended in a conflict (the submission is then `invalid` with findings)."""
    submission = Submission.objects.filter(pk=submission_id).first()
    if submission is None or not submission.claim_for_approval():
        return None
    try:
        # The curator's permission was checked when the approval was requested.
        return _write(submission, submission.decided_by)
    except ApprovalConflict:
        return []
    except SubmissionStateError:
        return None  # rejected or approved meanwhile; nothing to do
    except (OperationalError, InterfaceError, SoftTimeLimitExceeded):
        # The transaction rolled back; hand the claim back so the retry (or beat)
        # takes it at once rather than after the stale time-out.
        try:
            release_approval_claim(submission.pk, submission.approval_attempts)
        except (OperationalError, InterfaceError):
            logger.warning("could not release approval of submission %s; beat will re-queue it", submission.pk)
        raise


def release_approval_claim(submission_id: int, attempts: int) -> None:
    Submission.objects.filter(pk=submission_id, status=SubmissionStatus.APPROVING, approval_attempts=attempts).update(
        approval_started_at=None, updated_at=timezone.now()
    )


def stale_approvals(now: datetime.datetime | None = None) -> QuerySet[Submission]:
    """Approvals requested but not finished: never picked up (broker down) or whose
    run went quiet (worker killed; its transaction rolled back)."""
    now = now or timezone.now()
    before = now - settings.SUBMISSION_STALE_AFTER
    return Submission.objects.filter(status=SubmissionStatus.APPROVING, updated_at__lt=before)


def hand_back_approval(submission: Submission) -> None:
    """An approval that did not finish after pipeline.MAX_ATTEMPTS runs goes back to
    the curators as `valid` (nothing was written: each run is one transaction); logged."""
    logger.error(
        "approval of submission %s did not finish after %s attempts; it is valid again",
        submission.pk,
        submission.approval_attempts,
    )
    Submission.objects.filter(pk=submission.pk, status=SubmissionStatus.APPROVING).update(
        status=SubmissionStatus.VALID,
        decided_by=None,
        decided_at=None,
        approval_started_at=None,
        updated_at=timezone.now(),
    )


def _approve(submission_id, by):
    # of=("self",): lock the submission only, not the protocol version row every
    # approval joins (that would serialise all approvals of all institutions).
    submission = (
        Submission.objects.select_for_update(of=("self",))
        .select_related("institution", "protocol_version")
        .get(pk=submission_id)
    )
    if submission.status not in APPROVABLE:
        submission._refuse("approved")
    # Approvals of one institution run one at a time: name assignment reads the
    # donor numbers and clone letters in use and then writes new ones, and two
    # approvals interleaving there would pick the same.
    institution = Institution.objects.select_for_update().get(pk=submission.institution_id)

    document = load_document(submission)

    plan = Plan(document, submission, institution, approved_by=by)
    conflicts = plan.recheck()
    if conflicts:
        raise Conflict(conflicts)
    plan.assign_names()
    lines = plan.write()
    submission.approve(by=by)
    _after_write(lines, plan.created_donors)
    return lines


def _after_write(lines, donors):
    """Keep the STR index current inside the same transaction, so a search never sees
    lines without their STR entries (the plan wrote the donors' affection status and
    the lines' search text with the rows). The lines are the rows just written, still
    in memory: nothing is read back."""
    str_store.index_new("line", [line for line in lines if line.str_profile])
    str_store.reindex_many("donor", [d for d in donors if d.str_profile])
