"""/health/ (django-health-check): database, cache, media storage and disk, and, when
tasks go to a broker, the broker and a worker's heartbeat; docker-compose's web
health check asks it."""

import datetime

import pytest
import yaml
from django.conf import settings
from django.test import Client
from django.utils import timezone

from core.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _checks(response):
    return {name.split("(")[0]: value for name, value in response.json().items()}


@pytest.mark.django_db(transaction=True)  # the checks run in other threads: they see committed rows only
def test_every_check_passes_on_a_healthy_checkout():
    # As beat leaves it every minute (with a broker, the check reads it).
    WorkerHeartbeat.objects.create(label="beat", worker="w1", seen_at=timezone.now())
    response = Client().get("/health/?format=json")
    assert response.status_code == 200, response.content
    checks = _checks(response)
    assert {"Database", "Cache", "Storage", "Broker", "WorkerAlive", "MediaDisk"} <= set(checks)
    assert set(checks.values()) == {"OK"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)  # the checks run in other threads: they see committed rows only
def test_a_stale_worker_heartbeat_fails_the_check(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # as with a broker: the heartbeat matters
    settings.CELERY_BROKER_URL = "memory://localhost/"
    WorkerHeartbeat.objects.create(label="beat", worker="w1", seen_at=timezone.now() - datetime.timedelta(hours=1))
    response = Client().get("/health/?format=json")
    assert response.status_code == 500
    assert "heartbeat is" in _checks(response)["WorkerAlive"]
    WorkerHeartbeat.objects.filter(label="beat").update(seen_at=timezone.now())
    assert _checks(Client().get("/health/?format=json"))["WorkerAlive"] == "OK"


def test_too_little_free_space_for_media_fails_the_check(settings):
    settings.HEALTH_MEDIA_MIN_FREE_MB = 10**12
    response = Client().get("/health/?format=json")
    assert response.status_code == 500
    assert "free for media" in _checks(response)["MediaDisk"]


def test_docker_compose_asks_the_health_endpoint():
    services = yaml.safe_load((settings.BASE_DIR / "docker-compose.yml").read_text())["services"]
    assert "/health/" in " ".join(services["web"]["healthcheck"]["test"])
