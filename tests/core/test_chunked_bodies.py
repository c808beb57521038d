"""A body sent in chunks (Transfer-Encoding: chunked, no Content-Length) is capped
as one with a Content-Length is: over the limit it is a 413 naming the limit (JSON
under /api/), answered once the limit is passed rather than after reading it all,
and within the limit it reaches the view whole (Django alone reads it as empty).
Through a real server (gunicorn decodes the chunks; Django's test client cannot
send them), with http.client sending the chunks."""

import http.client
import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

LIMIT = 1_000_000
CHUNK = b"x" * 65_536


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "PRISM_REQUIRE_SERVICES", "PROMETHEUS_MULTIPROC_DIR")
    }
    env.update(
        DEBUG="1",
        # No answer here reads the database: the limits are checked before anything else.
        DATABASE_URL=f"sqlite:///{log.parent / 'unused.sqlite3'}",
        UPLOAD_MAX_BYTES=str(LIMIT),
        DATA_UPLOAD_MAX_MEMORY_SIZE=str(LIMIT),
    )
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "prism.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "60",
            ],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def send_chunked(port, path, content_type, chunks):
    """POST `chunks` one by one; stop sending once the server answers. Returns
    (status, headers, body, bytes sent before the answer came)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.putrequest("POST", path)
    connection.putheader("Transfer-Encoding", "chunked")
    connection.putheader("Content-Type", content_type)
    connection.endheaders()
    sent = 0
    try:
        for chunk in chunks:
            if select.select([connection.sock], [], [], 0)[0]:
                break  # the answer is there: the server stopped reading
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        else:
            connection.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, response.getheader("Content-Type", ""), body, sent


def test_a_chunked_upload_over_the_limit_is_a_413_in_json_naming_it(server):
    boundary = "prismboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="deposit.json"\r\n'
        "Content-Type: application/json\r\n\r\n"
    ).encode()
    chunks = [head, *([CHUNK] * 1_000)]  # 65 MB, far over the limit

    status, content_type, body, sent = send_chunked(
        server, "/api/v1/submissions/", f"multipart/form-data; boundary={boundary}", chunks
    )

    assert status == 413
    assert content_type.startswith("application/json")
    detail = json.loads(body)["detail"]
    assert "An upload may be at most 1,000,000 bytes" in detail and "sent in chunks" in detail
    # Answered once the limit was passed, not after the whole 65 MB were read.
    assert sent < 32 * LIMIT


def test_a_chunked_raw_body_over_the_limit_is_a_413_in_json(server):
    status, content_type, body, _sent = send_chunked(
        server, "/api/v1/eligibility/", "application/json", [b'{"purpose": "', *([CHUNK] * 40)]
    )

    assert status == 413
    assert content_type.startswith("application/json")
    assert "A request body may be at most 1,000,000 bytes" in json.loads(body)["detail"]


def test_a_chunked_upload_on_a_page_over_the_limit_is_a_413_saying_it(server):
    status, content_type, body, _sent = send_chunked(
        server, "/submissions/new/", "multipart/form-data; boundary=b", [b"--b\r\n", *([CHUNK] * 40)]
    )

    assert status == 413
    assert content_type.startswith("text/plain")
    assert "at most 1,000,000 bytes" in body.decode()


def test_a_chunked_body_within_the_limit_reaches_the_view_whole(server):
    # Cut mid-document on purpose: the parser's complaint shows it read what was sent
    # (an empty body, which is what Django alone reads, parses as no data at all).
    status, _content_type, body, _sent = send_chunked(
        server, "/api/v1/eligibility/", "application/json", [b'{"purpose": ', b'["DUO:0000042"']
    )

    assert status == 400
    assert "JSON parse error" in json.loads(body)["detail"]
