"""The catalog rules of a deposit, each finding at its place, and what happens to a
deposit whose run is lost."""

import datetime

import pytest
from django.utils import timezone

from results.deposit import deposit_dataset
from results.models import Dataset, DatasetStatus
from results.pipeline import run_validation
from results.tasks import requeue_stale_datasets
from results.validation import validate_deposit
from tests.results.conftest import deposit_json
from tests.results.documents import differentiation_document

pytestmark = pytest.mark.django_db


def rules(findings):
    return {(f["rule"], f["location"]) for f in findings}


def test_a_line_listed_twice_and_a_row_on_an_unlisted_line(recipient, shipped_lines):
    _request, lines = shipped_lines
    document = differentiation_document({lines[0].name: 80.0})
    document["lines"].append({"line": lines[0].name})
    document["measurements"].append({"line": lines[1].name, "marker": "ISL1", "value": 50, "unit": "%"})
    found = rules(validate_deposit(document, "differentiation_efficiency", recipient))
    assert ("RES-DUP", "/lines/1/line") in found
    assert ("RES-ROW", "/measurements/2/line") in found


def test_dates_the_work_and_the_embargo(recipient, shipped_lines):
    _request, lines = shipped_lines
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    document = differentiation_document({lines[0].name: 80.0}, performed_on=tomorrow, embargo_until="2020-01-01")
    found = rules(validate_deposit(document, "differentiation_efficiency", recipient))
    assert ("RES-DATE", "/performed_on") in found and ("RES-DATE", "/embargo_until") in found


def test_the_assay_schema_decides_units_and_required_fields(recipient, shipped_lines):
    _request, lines = shipped_lines
    document = differentiation_document({lines[0].name: 80.0})
    document["measurements"][0]["unit"] = "Hz"
    del document["measurements"][1]["marker"]
    found = validate_deposit(document, "differentiation_efficiency", recipient)
    assert ("SCHEMA", "/measurements/0/unit") in rules(found)
    assert ("SCHEMA", "/measurements/1/marker") in rules(found)
    assert all(f["line"] == lines[0].name for f in found if f["location"].startswith("/measurements/"))


def test_a_lost_run_is_queued_again_and_given_up_after_five_attempts(recipient, shipped_lines, settings):
    _request, lines = shipped_lines
    dataset = deposit_json(recipient, differentiation_document({lines[0].name: 80.0}))  # its task never ran
    past = timezone.now() - settings.SUBMISSION_STALE_AFTER - datetime.timedelta(minutes=1)
    Dataset.objects.filter(pk=dataset.pk).update(updated_at=past)
    requeue_stale_datasets()  # tasks run in-process here
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.PENDING_REVIEW
    assert run_validation(dataset.pk) is None

    stuck = deposit_json(recipient, differentiation_document({lines[1].name: 70.0}))
    Dataset.objects.filter(pk=stuck.pk).update(status=DatasetStatus.VALIDATING, attempts=5, updated_at=past)
    requeue_stale_datasets()
    stuck.refresh_from_db()
    assert stuck.status == DatasetStatus.INVALID and "did not finish after 5 attempts" in stuck.findings[0]["message"]


def test_a_nul_character_is_a_finding_not_a_crash(recipient, shipped_lines, deposit):
    _request, lines = shipped_lines
    document = differentiation_document({lines[0].name: 80.0}, title="Invented\x00title")
    document["measurements"][0]["marker"] = "IS\x00L1"
    dataset = deposit(recipient, document)
    assert dataset.status == DatasetStatus.INVALID
    assert {("RES-TEXT", "/title"), ("RES-TEXT", "/measurements/0/marker")} <= rules(dataset.findings)


def test_a_nul_in_a_column_name_is_reported_and_stored(recipient, shipped_lines, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dataset = deposit_dataset(
            recipient, assay="survival", fmt="csv", content=b"line,val\x00ue\nUKBi001-A,1\n", metadata={}
        )
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.INVALID
    assert [f["location"] for f in dataset.findings] == ["measurements.csv, row 1, column val\\0ue"]
