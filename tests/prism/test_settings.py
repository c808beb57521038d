"""The embedded default and the environment switches of prism/settings.py.

Settings are read once per process, so each case loads them in a fresh
`python -c` with a controlled environment (no inherited DATABASE_URL, broker
or SECRET_KEY), as a fresh checkout or a container would.
"""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from core.models import WorkerHeartbeat
from core.tasks import record_heartbeat

READ_SETTINGS = """
import json, sys
from django.conf import settings
names = sys.argv[1:]
print(json.dumps({name: getattr(settings, name) for name in names}, default=str))
"""


def load_settings(env, *names):
    """Settings `names` as a fresh process with only `env` (plus PATH) would see them."""
    result = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS, *names],
        env={"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "prism.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result, (json.loads(result.stdout) if result.returncode == 0 else None)


def test_with_no_database_url_the_catalog_runs_on_a_sqlite_file_with_a_busy_timeout():
    _, values = load_settings({"DEBUG": "1"}, "DATABASES")

    database = values["DATABASES"]["default"]
    assert database["ENGINE"].endswith("db.backends.sqlite3")  # Django's, wrapped by django-prometheus
    assert database["NAME"] == str(settings.BASE_DIR / "db.sqlite3")
    # Web and an eagerly run task wait for each other's write lock.
    assert database["OPTIONS"]["timeout"] >= 5
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_database_url_switches_to_postgresql_with_persistent_checked_connections():
    _, values = load_settings(
        {"DEBUG": "1", "DATABASE_URL": "postgres://prism:pw@db.example:5433/catalog"}, "DATABASES"
    )

    database = values["DATABASES"]["default"]
    assert database["ENGINE"].endswith("db.backends.postgresql")
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db.example", 5433, "catalog")
    assert database["CONN_HEALTH_CHECKS"] is True


def test_with_no_broker_tasks_run_eagerly_and_a_broker_turns_that_off():
    _, without = load_settings({"DEBUG": "1"}, "CELERY_TASK_ALWAYS_EAGER")
    _, with_broker = load_settings(
        {"DEBUG": "1", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/3"},
        "CELERY_TASK_ALWAYS_EAGER",
        "CELERY_BROKER_URL",
    )

    assert without["CELERY_TASK_ALWAYS_EAGER"] is True
    assert with_broker["CELERY_TASK_ALWAYS_EAGER"] is False
    assert with_broker["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"


def run_python(env, code, *args):
    return subprocess.run(
        [sys.executable, *code, *args],
        env={"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "prism.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_web_server_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = run_python({}, ["-c", "import prism.wsgi"])

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_workers_refuse_to_start_without_a_secret_key_when_debug_is_off():
    result = run_python({}, ["-m", "celery"], "-A", "prism", "worker", "--pool", "solo")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_offline_commands_run_without_a_secret_key():
    result = run_python({}, ["manage.py", "makemigrations", "--check", "--dry-run"])

    assert result.returncode == 0, result.stderr


def test_debug_runs_without_a_secret_key_and_production_uses_the_given_one():
    _, debug = load_settings({"DEBUG": "1"}, "SECRET_KEY", "DEBUG")
    _, production = load_settings({"SECRET_KEY": "k" * 50}, "SECRET_KEY", "DEBUG", "STORAGES")

    assert debug["DEBUG"] is True and debug["SECRET_KEY"]
    assert production["DEBUG"] is False and production["SECRET_KEY"] == "k" * 50
    # Off DEBUG, static files are served compressed with hashed names.
    assert "CompressedManifest" in production["STORAGES"]["staticfiles"]["BACKEND"]


def test_hosts_origins_email_and_media_come_from_the_environment(tmp_path):
    _, values = load_settings(
        {
            "SECRET_KEY": "k" * 50,
            "ALLOWED_HOSTS": "catalog.example.org,www.catalog.example.org",
            "CSRF_TRUSTED_ORIGINS": "https://catalog.example.org",
            "EMAIL_URL": "smtp+tls://bank:pw@smtp.example.org:587",
            "MEDIA_ROOT": str(tmp_path),
        },
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_USE_TLS",
        "MEDIA_ROOT",
    )

    assert values["ALLOWED_HOSTS"] == ["catalog.example.org", "www.catalog.example.org"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://catalog.example.org"]
    assert (values["EMAIL_HOST"], values["EMAIL_PORT"], values["EMAIL_USE_TLS"]) == (
        "smtp.example.org",
        587,
        True,
    )
    assert values["MEDIA_ROOT"] == str(tmp_path)


def test_email_goes_to_the_console_by_default():
    _, values = load_settings({"DEBUG": "1"}, "EMAIL_BACKEND")

    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


@pytest.mark.django_db
@pytest.mark.skipif(not settings.CELERY_TASK_ALWAYS_EAGER, reason="CELERY_BROKER_URL is set: tasks go to the broker")
def test_without_a_broker_a_queued_task_runs_at_once_in_the_calling_process(caplog):
    record_heartbeat.delay(label="eager-check")

    assert WorkerHeartbeat.objects.get(label="eager-check").worker == "eager"
    assert "hostname" not in caplog.text  # no broker warning on an eager task


@pytest.mark.django_db
def test_the_celery_eager_fixture_runs_tasks_in_process_even_where_a_broker_is_set(celery_eager):
    record_heartbeat.delay(label="forced-eager")

    assert WorkerHeartbeat.objects.get(label="forced-eager").worker == "eager"
