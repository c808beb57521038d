"""Running requests at the same moment from several threads (each with its own
database connection), for the double-submit tests; they need PostgreSQL (row locks
across connections) and skip elsewhere, or fail under PRISM_REQUIRE_SERVICES=1."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection, connections

from tests.celery_worker import skip_or_fail


def require_postgres():
    if connection.vendor != "postgresql":
        skip_or_fail(f"parallel requests need PostgreSQL row locks: DATABASE_URL is {connection.vendor}")


def at_once(count, call):
    """call(i) for i in range(count), all released together; their results in order."""
    barrier = threading.Barrier(count)

    def run(index):
        barrier.wait()
        try:
            return call(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))
