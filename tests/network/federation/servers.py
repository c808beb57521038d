"""Banks on loopback for the federation tests: real PRISM servers (each with its own
SQLite database, tests/network/peer_server.py) and two fake peers, one that hangs and
one that answers garbage."""

import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrismServer:
    def __init__(self, directory: Path, name: str, seed: str = "full"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = name
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
        self.log = open(directory / f"{self.port}.log", "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.network.peer_server",
                str(directory / f"{self.port}.sqlite3"),
                str(self.port),
                name,
                seed,
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait(self, seconds: float = 240) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/beacon/v2/info", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not start: {Path(self.log.name).read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class _Hanging(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.server.asked += 1
        time.sleep(30)

    def log_message(self, *args):
        pass


class _Garbage(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = b"<html>Service temporarily replaced by a cat</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class FakePeer:
    def __init__(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.server.asked = 0  # the queries it received (the hanging peer counts them)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def asked(self) -> int:
        return self.server.asked

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def hanging_peer() -> FakePeer:
    return FakePeer(_Hanging)


def garbage_peer() -> FakePeer:
    return FakePeer(_Garbage)
