"""The federation bench's peers: real PRISM banks under gunicorn on loopback (each on
its own copy of one migrated SQLite database, seeded with the small bank of the
Beacon tests), a slow proxy that answers like one of them 250 ms later, and a dead
peer that accepts the query and never answers (it counts how often it was asked).

python -m bench._federation <database file>   migrates and seeds the database."""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

BASE_DIR = Path(__file__).resolve().parent.parent
SLOW_SECONDS = 0.25


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(database: Path, name: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")}
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-only-secret-key-not-for-production",
        PRISM_BANK_NAME=name,
        THROTTLE_ANON="100000000/min",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="prism.settings",
    )
    env.pop("PRISM_REQUIRE_SERVICES", None)
    return env


class Bank:
    """One PRISM under gunicorn (one worker, four threads) on its own SQLite copy."""

    def __init__(self, seeded: Path, directory: Path, name: str):
        database = directory / f"{name.replace(' ', '_')}.sqlite3"
        shutil.copy(seeded, database)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(directory / f"{self.port}.log", "w")  # noqa: SIM115 (closed in stop)
        command = [sys.executable, "-m", "gunicorn", "prism.wsgi:application", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", "1", "--worker-class", "gthread", "--threads", "4", "--log-level", "warning"]
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, env=_env(database, name), stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait(self, seconds=120):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bank exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/beacon/v2/info", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"bank did not start: {Path(self.log.name).read_text()[-2000:]}")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class _Server:
    def __init__(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.server.asked = 0
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def asked(self):
        return self.server.asked

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def slow_proxy(target: str) -> _Server:
    """Forwards each Beacon POST to `target` and answers SLOW_SECONDS later."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.server.asked += 1
            time.sleep(SLOW_SECONDS)
            answer = httpx.post(target + self.path, content=body, headers={"Content-Type": "application/json"})
            self.send_response(answer.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def log_message(self, *args):
            pass

    return _Server(Handler)


def dead_peer() -> _Server:
    """Accepts the query and never answers."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.server.asked += 1
            time.sleep(60)

        def log_message(self, *args):
            pass

    return _Server(Handler)


def seed(directory: Path) -> Path:
    """One migrated, seeded SQLite database the banks copy."""
    database = directory / "seed.sqlite3"
    subprocess.run(
        [sys.executable, "-m", "bench._federation", str(database)],
        cwd=BASE_DIR,
        env=_env(database, "seed"),
        check=True,
    )
    return database


def main():
    import django

    django.setup()
    from django.core.management import call_command

    from core.models import Institution
    from tests.network.conftest import build_bank

    call_command("migrate", verbosity=0, interactive=False)
    owner = Institution.objects.create(code="UKB", name="University Hospital Bonn", country="Germany")
    other = Institution.objects.create(code="UCSF", name="UCSF", country="USA")
    build_bank(owner, other)


if __name__ == "__main__":
    main()
