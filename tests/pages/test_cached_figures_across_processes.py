"""A write made by one process shows at once on the pages another process serves:
a gunicorn subprocess (two workers, each with its own memory) on the test database
serves the catalog and the home page while this test process writes.

PostgreSQL only: another process cannot see an SQLite test database. With CACHE_URL
naming Redis both processes share one cache; with locmem each keeps its own, and both
must still follow the catalog version.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests import celery_worker
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def web_process(tmp_path):
    if connection.vendor != "postgresql":
        celery_worker.skip_or_fail(
            f"needs PostgreSQL so that another process sees the test database (DATABASE_URL is {connection.vendor})"
        )
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": celery_worker.test_database_url(),
        "CONN_MAX_AGE": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - fixed command, our own interpreter
        [
            sys.executable,
            "-m",
            "gunicorn",
            "prism.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--control-socket",
            str(tmp_path / "gunicorn.ctl"),
        ],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/accounts/login/", timeout=2)  # noqa: S310 - our own server
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"gunicorn did not start:\n{(tmp_path / 'gunicorn.log').read_text()}")
            time.sleep(0.3)
    yield base
    process.terminate()
    process.wait(20)


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - our own server
        return response.read().decode()


def figures(base):
    """Each figure asked of both workers (several requests each way)."""
    seen = set()
    for _ in range(4):
        catalog = fetch(f"{base}/lines/?sex=male")
        home = fetch(f"{base}/")
        total = int(re.search(r'<span data-total="(\d+)">', catalog).group(1))
        lines = int(re.search(r'data-stat="lines">([\d,]+)<', home).group(1).replace(",", ""))
        seen.add((total, lines))
    assert len(seen) == 1, f"the workers disagree: {seen}"
    return seen.pop()


def test_a_line_written_here_shows_at_once_on_another_process(web_process, owner_institution):
    donor = DonorFactory(institution=owner_institution, sex="male", donor_number="001")
    ConsentFactory(donor=donor)
    CellLineFactory(donor=donor, name="UKBi001-A")
    assert figures(web_process) == (1, 1)

    second = DonorFactory(institution=owner_institution, sex="male", donor_number="002")
    ConsentFactory(donor=second)
    line = CellLineFactory(donor=second, name="UKBi002-A")
    assert figures(web_process) == (2, 2)

    line.status, line.status_reason = "withdrawn", "consent withdrawn"
    line.save()
    assert figures(web_process) == (1, 1)
