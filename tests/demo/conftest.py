"""The demo catalog, written once for the tests/demo package inside an outer transaction
that is rolled back at the end, so other test packages never see it; each test runs in
a savepoint inside it."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from demo import catalog as demo
from lines.str.index import forget_index


@pytest.fixture(scope="package")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield {"output": out.getvalue(), "digest": demo.demo_digest()}
        transaction.set_rollback(True)
    # The STR search keeps an in-memory index per process; drop the rolled-back demo from it.
    forget_index()
