"""The catalog version (core/catalog_version.py): bumped once per committed write,
never by a rolled-back one, and the writer's own uncommitted reads get a key of
their own (so they neither see stale shared entries nor fill them)."""

import pytest
from django.db import transaction

from core import catalog_version
from tests.factories import CellLineFactory, QCRecordFactory


@pytest.mark.django_db(transaction=True)
def test_a_transaction_of_many_writes_bumps_the_version_once_when_it_commits():
    before = catalog_version.current()
    with transaction.atomic():
        line = CellLineFactory()
        QCRecordFactory(line=line, test="mycoplasma", result="pass")
        line.refresh_qc_status()
        assert catalog_version.current() != before  # the writer's own key
    assert int(catalog_version.current()) == int(before) + 1


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_leaves_the_version_alone():
    CellLineFactory()
    before = catalog_version.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        CellLineFactory()
        raise RuntimeError("the writer fails")
    assert catalog_version.current() == before


@pytest.mark.django_db(transaction=True)
def test_bulk_writes_bump_the_version():
    line = CellLineFactory()
    before = int(catalog_version.current())
    type(line).objects.filter(pk=line.pk).update(vials_in_stock=3)
    type(line).objects.bulk_update([line], ["status_reason"])
    assert int(catalog_version.current()) == before + 2


@pytest.mark.django_db
def test_each_uncommitted_write_changes_the_writers_own_key():
    line = CellLineFactory()
    first = catalog_version.current()
    assert "+" in first  # not the shared, committed number
    line.save()
    assert catalog_version.current() not in (first,)
