"""Bulk writes with history (core.bulk_copy): COPY on PostgreSQL, bulk_create elsewhere.

The rows and history records an approval writes are the ones the ORM path
(simple_history's bulk_create_with_history) writes, and a failure half-way
through an approval leaves nothing behind."""

import datetime
import gc
import json

import pytest
from django.db import IntegrityError, transaction
from simple_history.utils import bulk_create_with_history

from core import catalog_version
from core.bulk_copy import create_with_history, update_columns
from donors.models import Consent, Donor, Variant
from lines.models import CellLine, ProtocolVersion, QCRecord, StrIndexEntry
from lines.search_text import refresh_search_text
from lines.submissions.approval import ApprovalConflict, approve_submission
from tests.factories import InstitutionFactory, SubmissionFactory
from tests.submission_helpers import submission_document

pytestmark = pytest.mark.django_db

SKIP = {"id", "history_id", "history_date", "created_at", "updated_at", "donor_id", "code", "line_id"}


def _rows(queryset, skip=SKIP):
    return [{k: v for k, v in row.items() if k not in skip} for row in queryset.order_by("id").values()]


def _history(model, skip=SKIP):
    return [
        {k: v for k, v in row.items() if k not in skip} for row in model.history.order_by("id", "history_id").values()
    ]


def _donors(institution, prefix, count=3):
    return [
        Donor(
            code=f"{prefix}-{i}",
            institution=institution,
            donor_number=f"{prefix[-1]}{i:02d}",
            sex="female",
            age_at_sampling=40 + i,
            disease="MONDO:0004976",
            disease_label="ALS\ttab\nnew line \\ backslash 'quote' \"double\"",
            viral_screening={"HIV-1": "negative", "nested": {"list": [1, 2.5, None, "ü"]}},
            str_profile={"TH01": ["6", "9.3"]} if i else {},
            alsfrs_r_date=datetime.date(2025, 3, i + 1),
            progression_rate=0.25 * i if i else None,
        )
        for i in range(count)
    ]


def test_rows_and_history_are_those_of_the_orm_path(curator):
    institution = InstitutionFactory()
    by_orm = bulk_create_with_history(
        _donors(institution, "ORM-A"), Donor, default_user=curator, default_change_reason="approved submission 1"
    )
    by_copy = create_with_history(Donor, _donors(institution, "CPY-B"), user=curator, reason="approved submission 1")

    assert all(d.pk for d in by_copy)
    assert [d.pk for d in by_copy] == sorted(d.pk for d in by_copy)
    orm_rows = _rows(Donor.objects.filter(pk__in=[d.pk for d in by_orm]), SKIP | {"donor_number"})
    copy_rows = _rows(Donor.objects.filter(pk__in=[d.pk for d in by_copy]), SKIP | {"donor_number"})
    assert copy_rows == orm_rows
    assert Donor.objects.get(pk=by_copy[0].pk).disease_label == by_orm[0].disease_label
    history = _history(Donor, SKIP | {"donor_number"})
    assert history[3:] == history[:3]
    assert {(h["history_type"], h["history_user_id"], h["history_change_reason"]) for h in history} == {
        ("+", curator.pk, "approved submission 1")
    }
    # Every row has its one history record, pointing at it.
    assert sorted(Donor.history.values_list("id", flat=True)) == sorted(d.pk for d in by_orm + by_copy)
    # Saved as the ORM saves: the objects are usable for foreign keys at once.
    consents = create_with_history(Consent, [Consent(donor=d) for d in by_copy])
    assert Consent.objects.get(pk=consents[0].pk).donor == by_copy[0]


def test_a_bulk_write_changes_the_catalog_version(curator):
    institution = InstitutionFactory()
    before = catalog_version.current()
    with transaction.atomic():
        donors = create_with_history(Donor, _donors(institution, "VER-E"), user=curator)
        assert catalog_version.has_uncommitted_writes()
    after_insert = catalog_version.current()
    assert after_insert != before
    update_columns(Donor, [d.pk for d in donors], {"disease_label": ["a", "b", "c"]})
    assert catalog_version.current() != after_insert


def test_a_failure_part_way_leaves_nothing(curator):
    institution = InstitutionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        create_with_history(Donor, _donors(institution, "ATM-C"), user=curator)
        create_with_history(Donor, _donors(institution, "ATM-C"), user=curator)  # codes taken
    assert not Donor.objects.exists()
    assert not Donor.history.exists()


def test_update_columns_sets_each_row_its_value():
    institution = InstitutionFactory()
    donors = create_with_history(Donor, _donors(institution, "UPD-D"))
    update_columns(
        Donor, [d.pk for d in donors], {"disease_label": ["one", "two\tx", ""], "age_at_sampling": [1, None, 3]}
    )
    assert list(Donor.objects.order_by("pk").values_list("disease_label", "age_at_sampling")) == [
        ("one", 1),
        ("two\tx", None),
        ("", 3),
    ]


def _submission(institution, document):
    return SubmissionFactory(
        institution=institution,
        protocol_version=ProtocolVersion.objects.get(number=1),
        document__data=json.dumps(document).encode(),
        status="valid",
    )


def test_an_approval_writes_each_row_with_its_history(curator):
    institution = InstitutionFactory()
    document = submission_document(lines=6, donors=2)
    lines = approve_submission(_submission(institution, document), by=curator)

    assert len(lines) == 6
    records = QCRecord.objects.filter(line__in=lines)
    expected = sum(len(line["qc"]) + bool(line.get("viral_screening")) for line in document["lines"])
    assert records.count() == expected
    for model, rows in [
        (CellLine, CellLine.objects.filter(pk__in=[line.pk for line in lines])),
        (QCRecord, records),
        (Donor, Donor.objects.filter(institution=institution)),
        (Variant, Variant.objects.filter(donor__institution=institution)),
        (Consent, Consent.objects.filter(donor__institution=institution)),
    ]:
        history = model.history.filter(id__in=rows.values("id"))
        assert history.count() == rows.count() > 0, model
        assert set(history.values_list("history_type", "history_user_id")) == {("+", curator.pk)}
    line = CellLine.objects.get(pk=lines[0].pk)
    assert line.search_text and line.name.lower() in line.search_text
    assert line.history.get().name == line.name
    # The search text written with the rows is what a refresh computes from the catalog.
    written = _texts(lines)
    assert all(public for public, _ in written.values())
    refresh_search_text(CellLine.objects.filter(pk__in=written))
    assert _texts(lines) == written
    # And every line is in the STR index.
    assert StrIndexEntry.objects.filter(kind="line", object_id__in=written, removed=False).count() == 6


def _texts(lines):
    rows = CellLine.objects.filter(pk__in=[line.pk for line in lines])
    return {
        pk: (public, restricted)
        for pk, public, restricted in rows.values_list("pk", "search_text", "search_text_restricted")
    }


def test_a_failed_approval_writes_nothing(curator):
    institution = InstitutionFactory()
    document = submission_document(lines=4, donors=2)
    document["lines"][-1]["qc"][-1]["result"] = "maybe"  # refused by the QC record's constraint, written last
    submission = _submission(institution, document)
    with pytest.raises(ApprovalConflict):  # the database refused a row: the approval is handed back
        approve_submission(submission, by=curator)
    assert not Donor.objects.filter(institution=institution).exists()
    assert not CellLine.objects.filter(institution=institution).exists()
    assert not Donor.history.exists()
    assert not CellLine.history.exists()
    assert not QCRecord.history.exists()
    assert not QCRecord.objects.exists()
    assert gc.isenabled()  # the approval paused the cyclic collector (core.gc_pause) and switched it back on
