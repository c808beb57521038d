"""Settings of the test suite (pytest, and the Celery worker the worker tests start).

The project's own settings, read from the environment as always (DATABASE_URL and
CELERY_BROKER_URL choose the services), with what only tests want on top.
"""

from prism.settings import *  # noqa: F403
from prism.settings import REST_FRAMEWORK, SECRET_KEY, STORAGES

# Tests run with DEBUG off (as production does) and need no SECRET_KEY.
SECRET_KEY = SECRET_KEY or "test-key-not-secret"  # noqa: S105
SECRET_KEY_MISSING = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "user": "100000/min"},
}
# Tests serve no collected static files: no manifest, and whitenoise reads the
# finders instead of warning on every request that STATIC_ROOT is missing.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
# A background rebuild would read the committed database, not the test's transaction.
FACET_INDEX_IN_BACKGROUND = False
# Links in test e-mails point at the test client's host; tests of the fallback to the
# address the site was reached at clear it (tests/distribution/test_email_links.py).
SITE_URL = "http://testserver"
