"""Townsquare settings: every value comes from a ``TOWNSQUARE_*`` environment variable.

See ``docs/settings.md`` for the full list. Bad values are collected and reported
together, one line per variable, before anything starts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dj_database_url

from townsquare.core.env import Env, stored_secret

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()

MODE = env.choice("MODE", "local", ("local", "production"))
DEBUG = env.bool("DEBUG", False)
DATA_DIR = env.directory("DATA_DIR", BASE_DIR / "var")

# Secrets. In local mode they are generated once and kept in the data directory;
# production must provide them explicitly, so a lost volume can't silently rotate keys.
SECRET_KEY = env.secret("SECRET_KEY")
ENCRYPTION_KEYS = env.list("ENCRYPTION_KEYS", [])
if not SECRET_KEY:
    if MODE == "production":
        env.problem("SECRET_KEY", "is required when TOWNSQUARE_MODE=production (or set TOWNSQUARE_SECRET_KEY_FILE)")
    elif not env.problems:
        SECRET_KEY = stored_secret(DATA_DIR / "secret_key")
if not ENCRYPTION_KEYS:
    if MODE == "production":
        env.problem(
            "ENCRYPTION_KEYS", "is required when TOWNSQUARE_MODE=production: comma-separated Fernet keys, newest first"
        )
    elif not env.problems:
        ENCRYPTION_KEYS = [stored_secret(DATA_DIR / "encryption_key", nbytes=32)]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])
BASE_URL = env.url("BASE_URL", "http://127.0.0.1:8000", ("http", "https")).rstrip("/")
TIME_ZONE = env.str("TIME_ZONE", "UTC")
# Email domains of the company's own staff: their community messages are kept but not counted as feedback.
COMPANY_EMAIL_DOMAINS = [d.lower().lstrip("@") for d in env.list("COMPANY_EMAIL_DOMAINS", [])]
FISCAL_YEAR_START_MONTH = env.int("FISCAL_YEAR_START_MONTH", 1, minimum=1)
if FISCAL_YEAR_START_MONTH > 12:
    env.problem("FISCAL_YEAR_START_MONTH", f"must be 1 to 12, got {FISCAL_YEAR_START_MONTH}")
    FISCAL_YEAR_START_MONTH = 1

# The one server folder (besides uploads) whose files a source's config.path may name; empty: uploads only.
SOURCES_IMPORT_DIR = env.existing_directory("IMPORT_DIR")
# Archive limits: one JSON file or member, and a whole zip or tarball, uncompressed (zip bombs, huge files).
IMPORT_MAX_MEMBER_MB = env.int("IMPORT_MAX_MEMBER_MB", 64, minimum=1)
IMPORT_MAX_ARCHIVE_MB = env.int("IMPORT_MAX_ARCHIVE_MB", 8192, minimum=1)
# A running sync on another host whose heartbeat is older than this is dead (on this host: its pid says so).
SYNC_STALE_SECONDS = env.int("SYNC_STALE_SECONDS", 120, minimum=10)

# Database: SQLite in the data directory unless a URL says otherwise.
_database_url = env.str("DATABASE_URL", "")
if _database_url:
    try:
        _db = dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)
    except (ValueError, KeyError) as exc:
        env.problem("DATABASE_URL", f"cannot parse it ({exc}); use sqlite:///path or postgres://user@host:5432/name")
        _db = {}
    if _db and _db.get("ENGINE") not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
        env.problem("DATABASE_URL", "only sqlite:// and postgres:// databases are supported")
        _db = {}
else:
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "townsquare.sqlite3")}
if not _db:
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        # WAL lets the web server read while a worker writes; IMMEDIATE avoids
        # lock-upgrade deadlocks between two writers.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    _test_name = env.str("TEST_SQLITE_PATH", "")
    if _test_name:
        # A file (not :memory:) so worker subprocesses started by tests see the test data.
        _db["TEST"] = {"NAME": _test_name}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background tasks (django-tasks, the backport of Django 6's django.tasks).
TASKS_BACKEND = env.choice("TASKS_BACKEND", "database", ("database", "rq", "immediate"))
REDIS_URL = env.url("REDIS_URL", "redis://127.0.0.1:6379/0", ("redis", "rediss", "unix"))
_TASK_QUEUES = ["default", "notify", "ingest", "feedback"]
if TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": _TASK_QUEUES}}
elif TASKS_BACKEND == "rq":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": _TASK_QUEUES}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": _TASK_QUEUES}}
RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600} for name in _TASK_QUEUES}
SCHEDULER_ENABLED = env.bool("SCHEDULER", True)
# Where feedback embeddings are searched: a file-backed ANN index (usearch) by default, or pgvector
# (HNSW) on PostgreSQL databases that have the extension.
FEEDBACK_VECTOR_BACKEND = env.choice("FEEDBACK_VECTOR_BACKEND", "file", ("file", "pgvector"))
# How sentence embeddings are computed: int8 ONNX (default, checked at >= 0.99 mean cosine against the
# reference), plain ONNX, or sentence-transformers on torch. Built models are cached in MODEL_CACHE.
FEEDBACK_EMBEDDING_RUNTIME = env.choice("EMBEDDING_RUNTIME", "onnx-int8", ("onnx-int8", "onnx", "torch"))
MODEL_CACHE_DIR = env.directory("MODEL_CACHE", DATA_DIR / "models")
# Threads the embedding model may use; 0 means one per CPU.
FEEDBACK_EMBEDDING_THREADS = env.int("EMBEDDING_THREADS", 0, minimum=0)

# The cache holds only what can be made again (chart drawings, rendered Value panels). Files in the data
# directory by default, so every web and worker process on the machine shares it; a Redis URL when Townsquare
# runs on several machines. A recompute draws about 120 entries: above Django's 300 files the file cache
# deletes a third of them at random, fresh ones included.
_cache_url = env.url("CACHE_URL", "", ("redis", "rediss"))
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
    if _cache_url
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
    # API throttling counts: in a database table (made by `townsquare init`, and by Django's test database set-up),
    # so every web process and machine shares one count. Never a per-process memory cache.
    "throttle": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "townsquare_cache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
}

# Defaults for `townsquare serve --bind/--workers`.
SERVE_BIND = env.str("BIND", "127.0.0.1:8000")
SERVE_WORKERS = env.int("WEB_WORKERS", 2, minimum=1)

# Email, sent through Apprise: a mailto URL such as mailtos://user:pass@smtp.example.com:587?from=devrel@example.com
EMAIL_URL = env.url("EMAIL_URL", "", ("mailto", "mailtos"))
EMAIL_FROM = env.str("EMAIL_FROM", "townsquare@localhost")
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", 8, minimum=1)
NOTIFY_BACKOFF_SECONDS = env.int("NOTIFY_BACKOFF_SECONDS", 30, minimum=1)
NOTIFY_TIMEOUT_SECONDS = env.int("NOTIFY_TIMEOUT_SECONDS", 15, minimum=1)

# Downloads (metrics): registry API addresses (overridable for a mirror, a proxy or tests), the GitHub
# token for release counts (a secret), timeouts, how long a 429's Retry-After may be waited out, and how
# far back the first npm fetch reaches.
DOWNLOADS_PYPI_URL = env.url("DOWNLOADS_PYPI_URL", "https://pypistats.org", ("http", "https"))
DOWNLOADS_NPM_URL = env.url("DOWNLOADS_NPM_URL", "https://api.npmjs.org", ("http", "https"))
DOWNLOADS_DOCKER_URL = env.url("DOWNLOADS_DOCKER_URL", "https://hub.docker.com", ("http", "https"))
DOWNLOADS_GITHUB_URL = env.url("DOWNLOADS_GITHUB_URL", "https://api.github.com", ("http", "https"))
DOWNLOADS_GITHUB_TOKEN = env.secret("DOWNLOADS_GITHUB_TOKEN")
DOWNLOADS_TIMEOUT_SECONDS = env.int("DOWNLOADS_TIMEOUT_SECONDS", 20, minimum=1)
DOWNLOADS_MAX_RETRY_WAIT_SECONDS = env.int("DOWNLOADS_MAX_RETRY_WAIT_SECONDS", 60, minimum=0)
DOWNLOADS_BACKFILL_MONTHS = env.int("DOWNLOADS_BACKFILL_MONTHS", 36, minimum=1)

# Newsletter link drop: the Slack app's signing secret for /townsquare drop, and whether a dropped link's
# page is fetched for its title (off by default; private addresses only when allowed).
SLACK_SIGNING_SECRET = env.secret("SLACK_SIGNING_SECRET")
LINK_FETCH_TITLES = env.bool("LINK_FETCH_TITLES", False)
LINK_FETCH_PRIVATE = env.bool("LINK_FETCH_PRIVATE", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_rich",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "axes",
    "townsquare.core",
    "townsquare.people",
    "townsquare.sources",
    "townsquare.feedback",
    "townsquare.reports",
    "townsquare.intake",
    "townsquare.board",
    "townsquare.notify",
    "townsquare.updates",
    "townsquare.metrics",
    "townsquare.value",
    "townsquare.home",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "townsquare.core.middleware.SecurityHeadersMiddleware",
    # Last, as axes asks: it turns a locked-out login's response into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "townsquare.urls"
WSGI_APPLICATION = "townsquare.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "townsquare.core.context_processors.navigation",
            ],
            # partials as a builtin: the same {% partialdef %} syntax Django 6 has built in.
            "builtins": ["townsquare.core.templatetags.townsquare", "template_partials.templatetags.partials"],
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Login lockout (django-axes, core/login.py): failed passwords counted per username and per client address over
# the lockout window, in the database so every process shares the count.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_FAILURES_PER_USER = env.int("LOGIN_FAILURES_PER_USER", 5, minimum=1)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", 20, minimum=1)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
# Reverse proxies in front of Townsquare that append to X-Forwarded-For; 0 uses the connection's address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_HANDLER = "townsquare.core.login.LoginLockoutHandler"  # axes.handlers.database.AxesDatabaseHandler's subclass
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = 1000  # per mille of each parameter's own limit (core/login.py)
AXES_COOLOFF_TIME = dt.timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_CLIENT_IP_CALLABLE = "townsquare.core.login.client_address"  # axes 8 reads django-ipware, not installed here
AXES_USERNAME_CALLABLE = "townsquare.core.login.lockout_username"
AXES_LOCKOUT_CALLABLE = "townsquare.core.login.lockout_response"
AXES_VERBOSE = False  # axes' own log lines name usernames and addresses; core/login.py logs without them
# The REST API: requests per client, counted in the database cache ("throttle") so every web process shares them.
API_RATE_ANON = env.str("API_RATE_ANON", "60/minute")
API_RATE_USER = env.str("API_RATE_USER", "1200/minute")
for _name, _rate in (("API_RATE_ANON", API_RATE_ANON), ("API_RATE_USER", API_RATE_USER)):
    _count, _, _period = _rate.partition("/")
    if not _count.isdigit() or _period not in ("second", "minute", "hour", "day"):
        env.problem(_name, f"expected a number of requests per second, minute, hour or day (600/minute), got {_rate!r}")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "media")},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
# Source maps are large and never needed compressed: skipping them keeps `init` fast (brotli is slow on them).
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [
    "jpg",
    "jpeg",
    "png",
    "gif",
    "webp",
    "zip",
    "gz",
    "tgz",
    "bz2",
    "tbz",
    "xz",
    "br",
    "swf",
    "flv",
    "woff",
    "woff2",
    "3gp",
    "3gpp",
    "asf",
    "avi",
    "m4v",
    "mov",
    "mp4",
    "mpeg",
    "mpg",
    "webm",
    "wmv",
    "map",
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# HTTP Strict Transport Security: once a browser has seen it, it uses https only for this long (seconds).
# Sent in production over https only (SecurityMiddleware adds it to secure responses); `townsquare check` warns
# when it is 0 there.
HSTS_SECONDS = env.int("HSTS_SECONDS", 31_536_000, minimum=0)
if BASE_URL.startswith("https://"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    if MODE == "production":
        SECURE_HSTS_SECONDS = HSTS_SECONDS

REST_FRAMEWORK = {
    # Token first, so unauthenticated clients get 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "townsquare.core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["townsquare.core.throttling.AnonThrottle", "townsquare.core.throttling.UserThrottle"],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,  # the client address, as the login lockout reads it
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Townsquare API",
    "DESCRIPTION": "The DevRel hub: community channels, feedback themes, requests, the board and value reports.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Views take their description from their own docstring, never from the RoleAPIView base's.
    "GET_LIB_DOC_EXCLUDES": "townsquare.core.api.schema_doc_excludes",
    # Swagger UI assets come from the sidecar package: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets several components share, named once (otherwise each gets a hashed name and a warning).
    "ENUM_NAME_OVERRIDES": {
        "MessageKindEnum": "townsquare.sources.models.Message.Kind",
        "ThemeStatusEnum": "townsquare.feedback.models.Theme.Status",
        "ReportStatusEnum": "townsquare.reports.models.Report.Status",
        "NewsletterStatusEnum": "townsquare.updates.models.newsletter.Newsletter.Status",
    },
}

LOG_LEVEL = env.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL.upper()},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per task run is noise at info level (the outbox sweep runs every minute).
        "django_tasks": {"level": "WARNING"},
        # Apprise logs full service URLs (with tokens) at debug level: keep it quiet.
        "apprise": {"level": "WARNING"},
    },
}

env.raise_if_problems()
