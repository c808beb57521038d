"""Shared fixtures: the kinds of caller every permission test speaks of
(anonymous, researcher, researcher attached to the owning institution, depositor of
the owning institution, depositor of another institution, curator), API clients for
them, and where the reference data lives."""

import importlib
import os
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.test import APIClient

from core.accounts import create_user_with_role
from core.roles import ROLES
from lines.holdings.facet_index import forget_index as forget_facet_index
from lines.models import ProtocolVersion, StrIndexState
from lines.str.index import forget_index
from tests.factories import InstitutionFactory


def reference_data_dir():
    return Path(os.environ.get("PRISM_REFERENCE_DATA", settings.PRISM_REFERENCE_DATA))


@pytest.fixture
def reference_data():
    """The shared real data folder; tests that need it skip, saying why, without it."""
    path = reference_data_dir()
    if not path.is_dir():
        pytest.skip(f"reference data not found at {path} (set PRISM_REFERENCE_DATA)")
    return path


@pytest.fixture
def owner_institution(db):
    return InstitutionFactory(code="UKB", name="University Hospital Bonn", country="Germany")


@pytest.fixture
def other_institution(db):
    return InstitutionFactory(code="UCSF", name="University of California San Francisco", country="USA")


@pytest.fixture
def researcher(db):
    return create_user_with_role("rita", "researcher", password="pw-rita-123")[0]


@pytest.fixture
def institution_researcher(owner_institution):
    """A researcher whose profile names the owning institution: the role, not the
    institution, decides what they see (released lines only, like any researcher)."""
    return create_user_with_role("rhea", "researcher", institution=owner_institution, password="pw-rhea-123")[0]


@pytest.fixture
def depositor(owner_institution):
    return create_user_with_role("dora", "depositor", institution=owner_institution, password="pw-dora-123")[0]


@pytest.fixture
def other_depositor(other_institution):
    return create_user_with_role("otto", "depositor", institution=other_institution, password="pw-otto-123")[0]


@pytest.fixture
def curator(db):
    return create_user_with_role("cora", "curator", password="pw-cora-123")[0]


def client_for(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api_client():
    return APIClient()


# A real Celery worker on the test database for tests marked `worker`
# (celery_worker_process, celery_worker_factory), and celery_eager for tests that
# want tasks run in-process even where a broker is set: see tests/celery_worker.py.
# Tests that start no worker run their tasks in-process even where CI sets a broker.
from tests.celery_worker import (  # noqa: E402, F401
    _celery_worker_session,
    _tasks_run_in_process_unless_the_test_has_a_worker,
    celery_eager,
    celery_worker_factory,
    celery_worker_process,
)


@pytest.fixture(autouse=True)
def _fresh_str_index():
    """The STR search keeps an index in memory per process; each test's rolled-back
    database must not meet the previous test's index."""
    forget_index()
    yield


@pytest.fixture(autouse=True)
def _fresh_facet_index():
    """The facet index is kept per process under the catalog version; a rolled-back
    test database can meet the same version number with other rows."""
    forget_facet_index()
    yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle and bad-token counts live in the cache (per process): one test's
    failures must not throttle the next test's requests."""
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _requests_keep_the_test_connection():
    """A request made in a test keeps the test's database connection, as Django's
    test client arranges for its own requests. Tests that call the WSGI app
    directly (schemathesis) would otherwise have it closed at the end of each
    request on PostgreSQL: inside the test's transaction autocommit differs from
    the settings, and close_old_connections takes that for a broken connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Rows that data migrations write. A transactional test ends with a flush that
# empties every table, so the next transactional test would find no roles,
# vocabularies or protocol version; they are written again (each function is
# idempotent). A new data migration adds its function here.
DATA_MIGRATIONS = [
    ("core.migrations.0002_roles_and_builtin_vocabularies", "forwards"),
    ("lines.migrations.0003_protocol_v1", "forwards"),
    ("lines.migrations.0012_protocol_v2", "forwards"),
    ("lines.migrations.0013_protocol_v3", "forwards"),
    ("lines.migrations.0005_str_index", "create_state_row"),
]


def _is_transactional(request):
    marker = request.node.get_closest_marker("django_db")
    return (
        (marker is not None and marker.kwargs.get("transaction", False))
        or "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
    )


@pytest.fixture(autouse=True)
def _data_migration_rows(request):
    if not _is_transactional(request):
        return
    request.getfixturevalue("transactional_db")
    complete = (
        Group.objects.filter(name__in=ROLES).count() == len(ROLES)
        and ProtocolVersion.objects.filter(number__in=[1, 2, 3]).count() == 3
        and StrIndexState.objects.exists()
    )
    if not complete:
        for module, function in DATA_MIGRATIONS:
            getattr(importlib.import_module(module), function)(apps, None)
