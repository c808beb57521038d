"""PRISM Catalog settings.

One file; every value comes from the environment with a safe default. With no
environment set the catalog runs on a SQLite file in the project folder and runs
Celery tasks eagerly, so a checkout works with no services at all. Setting
DATABASE_URL and CELERY_BROKER_URL moves it onto PostgreSQL, Redis and real workers.
"""

import tempfile
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
# With DEBUG off a missing key is refused where it matters: prism/wsgi.py and the
# Celery worker/beat start-up (prism/celery.py) fail at once. Offline management
# commands (makemigrations --check, migrate) may still run without one.
SECRET_KEY_MISSING = not SECRET_KEY and not DEBUG
if not SECRET_KEY and not SECRET_KEY_MISSING:
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105
# Left empty otherwise: Django itself refuses to sign anything with an empty key.

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Where links in e-mails point. Unset: the address the site was last reached at
# (core.site_address.SiteAddressMiddleware).
SITE_URL = env("SITE_URL", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_htmx",
    "django_prometheus",
    "health_check",
    "csp",
    "axes",
    "core",
    "donors",
    "lines",
    "stock",
    "distribution",
    "results",
    "network",
    "cohorts",
    "demo",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.request_id.RequestIdMiddleware",
    # 413 naming the limit before any body is read (UPLOAD_MAX_BYTES, DATA_UPLOAD_MAX_MEMORY_SIZE).
    "core.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "core.site_address.SiteAddressMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into core.lockout's answer.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "prism.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.roles",
            ],
        },
    },
]

WSGI_APPLICATION = "prism.wsgi.application"

# SQLite by default. The busy timeout lets the web process and an eagerly run
# task (or a second web worker) wait for each other's write lock instead of
# failing at once with "database is locked".
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

# The same backends wrapped by django-prometheus: query counts, errors and
# latency per database at /metrics (prism/metrics.py).
DATABASES["default"]["ENGINE"] = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before any password is checked.
    "core.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Curators may edit the catalog in the admin by role (core/auth.py).
    "core.auth.CuratorPermissionBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Large submissions (10,000 lines) arrive as one upload.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=50 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# A multipart upload (a submission's file, an STR batch) larger than this is a 413
# that says the limit (core.middleware); Django itself has no cap on files.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)

# --- Brute-force protection (core/lockout.py) ---------------------------------
# django-axes: this many failed sign-ins for one account, or from one address,
# lock it out for LOGIN_LOCKOUT_MINUTES (site, API and admin sign-ins alike).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "core.lockout.lockout_response"
AXES_VERBOSE = False
# Behind a reverse proxy the address is the proxy's unless it is read from
# X-Forwarded-For: PROXY_COUNT is how many proxies stand in front of the site.
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)
if AXES_IPWARE_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
# Failed token authentications per address (core.lockout.ThrottledTokenAuthentication):
# past this many in TOKEN_FAILURE_WINDOW seconds, token requests from it are a 429.
TOKEN_FAILURE_LIMIT = env.int("TOKEN_FAILURE_LIMIT", default=20)
TOKEN_FAILURE_WINDOW = env.int("TOKEN_FAILURE_WINDOW", default=300)
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Catalog figures (facet counts, home figures, the curator dashboard) are cached under
# the catalog version (core/catalog_version.py), which every write bumps: the timeout
# only bounds memory, never staleness.
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=24 * 3600)
# The per-process facet index (lines/holdings/facet_index.py) is rebuilt after each
# catalog write; in the background, requests meanwhile are answered by SQL (off: the
# request that finds it stale rebuilds it and waits, as the tests do).
FACET_INDEX_IN_BACKGROUND = env.bool("FACET_INDEX_IN_BACKGROUND", default=True)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="PRISM Catalog <catalog@prism.invalid>")
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
    CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)

# --- Content-Security-Policy (django-csp) -----------------------------------
# Scripts only from our own static files, or inline with the request's nonce
# (the Swagger and Redoc pages: templates/drf_spectacular/); no inline event
# handlers (static/js/prism.js instead), no eval (htmx does not need it here).
# Styles may be inline: the pages set CSS variables in style attributes, and
# htmx, Swagger UI and Redoc inject <style>. Redoc runs a web worker from a blob.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF, CSP_NONCE],
        "style-src": [CSP_SELF, "'unsafe-inline'"],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF, "data:"],
        "connect-src": [CSP_SELF],
        "worker-src": [CSP_SELF, "blob:"],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}

# --- HTTPS ------------------------------------------------------------------
# Off by default (a checkout serves plain HTTP on 127.0.0.1); docker-compose's
# production shape turns them on, and `manage.py check --deploy` passes there
# with no warning (tests/prism/test_deploy_check.py). Behind a TLS-terminating
# proxy, SECURE_PROXY_SSL_HEADER names the header it sets, as "HEADER,value"
# (e.g. HTTP_X_FORWARDED_PROTO,https); only set it when that proxy overwrites the
# header on every request, or a client could claim HTTPS.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Probes and scrapers inside the deployment speak plain HTTP to the container.
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if env("SECURE_PROXY_SSL_HEADER", default=""):
    _header, _, _value = env("SECURE_PROXY_SSL_HEADER").partition(",")
    SECURE_PROXY_SSL_HEADER = (_header.strip(), _value.strip() or "https")

# --- Celery -----------------------------------------------------------------
# Unset broker: tasks run in-process at once, so a fresh checkout needs no Redis.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Never connected to: an eager task still builds a producer, and with no URL
    # kombu warns on every task that it is "reverting to localhost".
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
# A task acknowledged only when it finishes is redelivered if its worker dies.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# KiB; a worker process past it is replaced once its task ends (None: never).
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=None)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# How long a message may stay unacknowledged before Redis hands it to another
# worker; must exceed the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 300),
    "socket_connect_timeout": 3,
    # A publisher (the web process queueing after commit) tries the broker twice,
    # not for kombu's default 4+ seconds: when Redis is down the request still
    # answers at once and beat re-queues from the database. (Workers reconnect
    # under broker_connection_max_retries, which this does not touch.)
    "max_retries": 1,
    "interval_start": 0.2,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULE = {
    # Shows in the admin (Worker heartbeats) that beat and a worker are alive.
    "worker-heartbeat": {"task": "core.tasks.record_heartbeat", "schedule": 60.0},
    # Submissions whose task was never published (broker down) or whose worker died.
    "requeue-stale-submissions": {
        "task": "lines.tasks.requeue_stale_submissions",
        "schedule": 60.0,
    },
    # Depositors of results on a donor who withdrew consent are told (results.tasks).
    "requeue-stale-datasets": {"task": "results.tasks.requeue_stale_datasets", "schedule": 60.0},
    "tell-depositors-of-withdrawals": {
        "task": "results.tasks.tell_depositors_of_withdrawals",
        "schedule": 15 * 60.0,
    },
}
# Publishing a task must not hold a web request for long when Redis is away: one
# quick retry, then the caller logs it and beat re-queues from the database.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}

# --- REST framework ---------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes a bad or missing token a 401
    # everywhere (with the session first DRF answers 403), as core.api's endpoints do.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.lockout.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.api.PrismAutoSchema",
    # orjson, with a nesting limit (core.parsers.JSON_MAX_DEPTH): a 400, never a 500.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="120/min"),
        "user": env("THROTTLE_USER", default="1200/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "PRISM Catalog API",
    "DESCRIPTION": "Holdings, STR identity, submissions and distribution of patient-derived iPSC lines.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Enums as components (drf-spectacular's own hook), then: no NUL characters in any
    # text the API reads (core.nul_characters), declared as the 400 it is.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.nul_characters.declare_no_nul_characters",
    ],
    # Swagger UI and Redoc served from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set (drf-spectacular warns, and check --deploy with it, otherwise).
    "ENUM_NAME_OVERRIDES": {
        "SubmissionStatusEnum": "lines.models.submissions.SubmissionStatus",
        "QcStatusEnum": "lines.models.catalog.QCStatus",
        "CurationStatusEnum": "lines.models.catalog.CurationStatus",
        "ModificationTypeEnum": "lines.models.catalog.ModificationType",
        "LineAvailabilityEnum": "lines.models.catalog.Availability",
        "StockAvailabilityEnum": ["available", "on_request", "out_of_stock", "not_distributed"],
        "SubmissionFormatEnum": "lines.models.submissions.SubmissionFormat",
        "DepositFormatEnum": "results.models.DepositFormat",
        "LotStatusEnum": "stock.models.LotStatus",
        "VialStatusEnum": "stock.models.VialStatus",
        "DatasetStatusEnum": "results.models.DatasetStatus",
        "FitStatusEnum": "results.models.FitStatus",
        "RequestStatusEnum": "distribution.models.RequestStatus",
        "ResearchPurposeCodeEnum": "donors.duo.PURPOSE_CODES",
    },
}

# /metrics (prism/metrics.py): a scraper sends "Authorization: Bearer <token>";
# with no token only loopback addresses may read it.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# A Celery worker serves its task metrics (prism/worker_metrics.py) on this port
# when it is set (0: not served), on this address.
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
WORKER_METRICS_ADDRESS = env("WORKER_METRICS_ADDRESS", default="0.0.0.0")  # noqa: S104 — scraped from another container

# /health/ (core/health.py): a worker heartbeat older than this, or less free
# space for media than this, is a failure.
HEALTH_WORKER_STALE_SECONDS = env.int("HEALTH_WORKER_STALE_SECONDS", default=300)
HEALTH_MEDIA_MIN_FREE_MB = env.int("HEALTH_MEDIA_MIN_FREE_MB", default=500)

# Reference data (Cellosaurus, DUO, MONDO ...) used by tests and importers.
PRISM_REFERENCE_DATA = Path(env("PRISM_REFERENCE_DATA", default=str(BASE_DIR.parent / "shared" / "data")))

SUBMISSION_STALE_AFTER = timedelta(minutes=env.int("SUBMISSION_STALE_MINUTES", default=15))
# The Celery queue validation runs on ("" = the default queue); lets a bank give
# validation its own workers, and the fault tests their own worker.
SUBMISSION_QUEUE = env("SUBMISSION_QUEUE", default="")
# What intake accepts (lines.submissions.formats.limits): the unpacked size of each
# zip member (a CSV file of the set, a part of a workbook) and the rows of each
# sheet or CSV file. 10,000 lines with a full QC panel are ~110,000 QC rows and
# a few tens of MB.
SUBMISSION_MAX_MEMBER_BYTES = env.int("SUBMISSION_MAX_MEMBER_BYTES", default=64 * 1024 * 1024)
SUBMISSION_MAX_SHEET_ROWS = env.int("SUBMISSION_MAX_SHEET_ROWS", default=200_000)
# A report keeps this many findings of each rule; the rest are counted ("and 999,000 more of QC-1").
SUBMISSION_MAX_FINDINGS_PER_RULE = env.int("SUBMISSION_MAX_FINDINGS_PER_RULE", default=1_000)
# Seconds override, for fault tests that cannot wait minutes.
if env("SUBMISSION_STALE_SECONDS", default=""):
    SUBMISSION_STALE_AFTER = timedelta(seconds=env.int("SUBMISSION_STALE_SECONDS"))

# --- Experimental results (results/) ------------------------------------------
# A dataset upload (the measurement table or the JSON document) larger than this is refused at once.
RESULTS_MAX_UPLOAD_BYTES = env.int("RESULTS_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
# A comparison group with fewer lines than this is shown with "n too small" and no test.
RESULTS_MIN_GROUP_SIZE = env.int("RESULTS_MIN_GROUP_SIZE", default=3)

# --- STR identity search (lines/str/) ----------------------------------------
# Indexes of at least this many profiles are written to a file cache so that a
# new process starts from it instead of reading every profile again.
STR_INDEX_CACHE_MIN_ENTRIES = env.int("STR_INDEX_CACHE_MIN_ENTRIES", default=20_000)
STR_INDEX_CACHE_DIR = Path(env("STR_INDEX_CACHE_DIR", default=str(Path(tempfile.gettempdir()) / "prism-str-index")))
# CLASTR's own batch tool takes files of this order; past it a search belongs offline.
STR_BATCH_MAX_PROFILES = env.int("STR_BATCH_MAX_PROFILES", default=200)
STR_BATCH_MAX_BYTES = env.int("STR_BATCH_MAX_BYTES", default=2 * 1024 * 1024)

# LOG_FORMAT=json: one JSON object per line; every line carries the request id
# (core/request_id.py), also in a submission's tasks.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.request_id.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "core.request_id.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": env("LOG_FORMAT", default="text"),
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}

# Stock (issue 13): the bank named on certificates of analysis and vial labels.
PRISM_BANK_NAME = env("PRISM_BANK_NAME", default="PRISM Catalog biobank")

# --- Network of banks (network/, issue 16) ------------------------------------
# This bank as a Beacon v2: its id (a reversed domain is usual) and environment.
BEACON_ID = env("BEACON_ID", default="org.prism-als.catalog")
BEACON_ENVIRONMENT = env("BEACON_ENVIRONMENT", default="dev")
BEACON_PRODUCTION_STATUS = env("BEACON_PRODUCTION_STATUS", default="DEV")
# Anonymous callers get counts below this as a range (1 to threshold - 1), never
# exact, so that a count cannot single out a donor.
BEACON_COUNT_THRESHOLD = env.int("BEACON_COUNT_THRESHOLD", default=5)
# The entry types answered under /api/beacon/v2/: one module each (ENTRY_TYPE).
BEACON_ENTRY_TYPES = env.list(
    "BEACON_ENTRY_TYPES",
    default=[
        "network.beacon.entry_types.individuals",
        "network.beacon.entry_types.biosamples",
        "network.beacon.entry_types.g_variants",
        "network.beacon.entry_types.datasets",
        "network.beacon.entry_types.cohorts",
    ],
)
# Federated search: a peer that has not answered in this many seconds is shown as
# timed out; an answer (or a failure) is reused for this many seconds per query.
FEDERATION_TIMEOUT_SECONDS = env.float("FEDERATION_TIMEOUT_SECONDS", default=3.0)
FEDERATION_CACHE_SECONDS = env.int("FEDERATION_CACHE_SECONDS", default=60)
# --- Clinical course and cohorts (issue 15) ------------------------------------
# Progression class from ΔFS (ALSFRS-R points lost a month since onset), as in
# Kimura et al. 2006 / Labra et al. 2016: slow below 0.5, fast above 1.0,
# intermediate between (both ends included). donors/course.py reads them.
PRISM_PROGRESSION_SLOW_BELOW = env.float("PRISM_PROGRESSION_SLOW_BELOW", default=0.5)
PRISM_PROGRESSION_FAST_ABOVE = env.float("PRISM_PROGRESSION_FAST_ABOVE", default=1.0)
# The cohort builder (cohorts/): the largest arm, and the age tolerance (years)
# of control matching when a definition does not state one.
COHORT_MAX_ARM_SIZE = env.int("COHORT_MAX_ARM_SIZE", default=384)
COHORT_DEFAULT_AGE_TOLERANCE = env.int("COHORT_DEFAULT_AGE_TOLERANCE", default=5)
