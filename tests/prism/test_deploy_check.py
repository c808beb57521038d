"""`manage.py check --deploy` passes with no warning in docker-compose's production
shape (it warned four times: HSTS, SSL redirect, the proxy header, cookies), and
the HTTPS settings come from the environment."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DEFAULT = re.compile(r"\$\{(\w+):?-([^}]*)\}")


def compose_environment():
    """The web service's environment as docker compose resolves it with nothing set."""
    service = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]
    return {name: DEFAULT.sub(lambda m: m.group(2), str(value)) for name, value in service["environment"].items()}


def test_check_deploy_passes_with_no_warning_in_the_compose_production_shape():
    env = {**compose_environment(), "SECRET_KEY": secrets.token_urlsafe(50)}
    assert env["DEBUG"] == "false"
    # There is no `redis` host here: drf-spectacular's schema check authenticates a fake
    # request, and the token authentication reads its failure count from the cache.
    env["CACHE_URL"] = "locmemcache://"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "prism.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_https_settings_come_from_the_environment():
    env = compose_environment()
    script = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        env={
            "PATH": os.environ.get("PATH", ""),
            "DJANGO_SETTINGS_MODULE": "prism.settings",
            **env,
            "SECRET_KEY": "k" * 50,
            "SECURE_HSTS_SECONDS": "600",
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["True", "600", "('HTTP_X_FORWARDED_PROTO',", "'https')", "True"], result.stderr
