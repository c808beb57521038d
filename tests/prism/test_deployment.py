"""The container stack: docker-compose.yml and the Dockerfile keep the promises
the README makes (one image, healthy services first, scale-out by --scale)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APP_SERVICES = ("web", "worker", "beat", "migrate")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_docker_compose_config_accepts_the_file():
    if shutil.which("docker") is None:
        pytest.skip("the docker client is not installed")
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("the docker compose plugin is not installed")

    result = subprocess.run(
        ["docker", "compose", "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr


def test_web_worker_and_beat_run_one_image_built_once(compose):
    images = {compose[name]["image"] for name in APP_SERVICES}
    built = [name for name in compose if "build" in compose[name]]

    assert len(images) == 1
    assert built == ["migrate"]
    assert "gunicorn" in compose["web"]["command"]
    assert compose["worker"]["command"][:4] == ["celery", "-A", "prism", "worker"]
    assert compose["beat"]["command"][:4] == ["celery", "-A", "prism", "beat"]


def test_app_services_wait_for_healthy_postgres_and_redis_and_migrations(compose):
    for name in ("web", "worker", "beat"):
        depends = compose[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert compose["db"]["image"].startswith("postgres:16") and "healthcheck" in compose["db"]
    assert compose["redis"]["image"].startswith("redis:7") and "healthcheck" in compose["redis"]


def test_web_and_worker_can_be_scaled_out(compose):
    for name in ("web", "worker"):
        assert "container_name" not in compose[name]
    published = [name for name in compose if compose[name].get("ports")]
    assert published == ["web"]


def test_the_stack_is_configured_from_the_environment_with_persistent_volumes(compose):
    env = compose["web"]["environment"]
    for variable in (
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "MEDIA_ROOT",
    ):
        assert variable in env
    assert any(v.startswith("pgdata:") for v in compose["db"]["volumes"])
    assert any(v.startswith("redisdata:") for v in compose["redis"]["volumes"])
    assert any(v.startswith("media:") for v in compose["worker"]["volumes"])


def test_the_image_runs_as_a_non_root_user_with_static_files_collected():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "FROM python:3.11-slim" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    user_lines = [line for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert user_lines and user_lines[-1] != "USER root"


def test_validation_runs_on_its_own_queue_and_workers(compose):
    """A worker validating a huge document never holds up the default queue's tasks
    (e-mail, STR searches, beat's heartbeat and re-queue)."""
    queue = compose["web"]["environment"]["SUBMISSION_QUEUE"]
    assert queue.startswith("${SUBMISSION_QUEUE:-") and queue != "${SUBMISSION_QUEUE:-}"
    submission_worker = " ".join(compose["submission-worker"]["command"])
    assert "--queues=$${SUBMISSION_QUEUE}" in submission_worker or "--queues=${SUBMISSION_QUEUE}" in submission_worker
    # The default worker does not take the submission queue (it consumes Celery's default only).
    assert "--queues" not in " ".join(compose["worker"]["command"])
    assert compose["submission-worker"]["environment"]["SUBMISSION_QUEUE"] == queue


def test_web_worker_and_beat_share_one_cache_on_a_redis_db_of_its_own(compose):
    """The catalog figures are cached under the catalog version: every process must read
    the same cache, and the broker's db is never it (a cache clear would drop tasks)."""
    urls = {name: compose[name]["environment"]["CACHE_URL"] for name in APP_SERVICES}
    assert len(set(urls.values())) == 1
    cache_url = urls["web"]
    assert cache_url.startswith("redis://redis:6379/")
    assert cache_url != compose["web"]["environment"]["CELERY_BROKER_URL"]


@pytest.mark.parametrize("name", ["worker", "submission-worker"])
def test_the_workers_export_their_metrics_summed_over_their_pool(compose, name):
    env = compose[name]["environment"]
    # prism/worker_metrics.py serves them on this port; the directory sums the pool's processes.
    assert env["WORKER_METRICS_PORT"] == "${WORKER_METRICS_PORT:-9808}"
    assert env["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
    assert compose[name]["expose"] == ["${WORKER_METRICS_PORT:-9808}"]
    # The rest of the stack's environment still reaches the workers.
    assert env["DATABASE_URL"] == compose["web"]["environment"]["DATABASE_URL"]
    assert "WORKER_METRICS_PORT" not in compose["web"]["environment"]
