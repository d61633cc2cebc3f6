"""Attest settings: one module, every value from the environment.

Development defaults are safe to run on a laptop (SQLite, DEBUG on, a throwaway secret).
Production sets ``DEBUG=false``, ``SECRET_KEY`` (or ``SECRET_KEY_FILE``), ``ALLOWED_HOSTS``
and ``DATABASE_URL``; a bad value stops start-up with ``ImproperlyConfigured``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from audit.note import NoteError, check_key_name

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    """A setting from the environment, or from the file named by ``NAME_FILE`` (secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = env(name, "true" if default else "false").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false)")


def env_int(name: str, default: int) -> int:
    value = env(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None


def env_positive_int(name: str, default: int) -> int:
    value = env_int(name, default)
    if value < 1:
        raise ImproperlyConfigured(f"{name}={value} must be 1 or more")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG=false")
    SECRET_KEY = "django-insecure-development-only-never-use-in-production"
elif not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured("SECRET_KEY is too weak for production: use 50+ random characters")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# Where the embedded default keeps its SQLite file, artifacts and the dev signing key.
DATA_DIR = Path(env("ATTEST_DATA_DIR", str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "compliance.apps.AttestAdminConfig",  # django.contrib.admin with the dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the API docs' scripts and styles, served by the project
    "simple_history",
    "django_celery_beat",
    "axes",
    "compliance",
    "audit",
    "modelcards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "compliance.middleware.ApiContentSecurityPolicyMiddleware",
    "compliance.middleware.RequestSizeLimit",
    "compliance.middleware.RefuseNulCharacters",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Innermost but for axes, so it sees every exception a view (DRF included) lets through.
    "compliance.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses logins while locked out
    "compliance.backends.RoleBackend",  # ModelBackend, permissions in one query
]

ROOT_URLCONF = "compliance.urls"
WSGI_APPLICATION = "compliance.wsgi.application"

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
            ],
        },
    },
]

DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from exc
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// URL (or unset for SQLite)")
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", str(DATA_DIR / "attest.sqlite3")),
            "OPTIONS": {
                # WAL lets the web server and the sequencer work on one file at once.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
STATIC_ROOT = Path(env("STATIC_ROOT", str(DATA_DIR / "static")))

LOGIN_URL = "admin:login"

# Django's cache holds the API keys' rate counters and must be shared by every web process in
# production: Redis when CACHE_URL (or REDIS_URL) is set, this process's memory otherwise.
CACHE_URL = env("CACHE_URL") or env("REDIS_URL")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"CACHE_URL={CACHE_URL!r} must be a redis:// URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Admin login attempts (django-axes): after AXES_FAILURE_LIMIT failures for one username from
# one address, that pair is locked out for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env_positive_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_positive_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

REST_FRAMEWORK = {
    # API keys first: their WWW-Authenticate header turns "not logged in" into a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "compliance.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # The role first, then the API key's scope, which can only narrow what the role allows.
    "DEFAULT_PERMISSION_CLASSES": [
        "compliance.api.permissions.RolePermissions",
        "compliance.api.permissions.KeyScope",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["compliance.api.throttling.KeyRateThrottle"],
    "EXCEPTION_HANDLER": "compliance.api.exceptions.exception_handler",
    "DEFAULT_PARSER_CLASSES": ["compliance.api.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "compliance.api.pagination.Pagination",
    "PAGE_SIZE": 100,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Attest API",
    "DESCRIPTION": "Model inventory, audit ledger and validation workflow for ML models.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc from the project's static files, never a CDN: they work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"ConclusionEnum": "compliance.choices.Conclusion"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "compliance.api.schema.document_refusals",
    ],
}

# The ledger.
LEDGER_LOG_ID = env("LEDGER_LOG_ID", "attest")
# The log's name in its C2SP checkpoint notes (and the name of its key there): URL-like and
# globally unique, e.g. "ledger.bank.example/attest", so a witness never confuses two logs.
try:
    LEDGER_LOG_ORIGIN = check_key_name(env("ATTEST_LOG_ORIGIN", f"attest.example/{LEDGER_LOG_ID}"))
except NoteError as exc:
    raise ImproperlyConfigured(f"ATTEST_LOG_ORIGIN: {exc}") from exc
# Any API request larger than this is refused with 413 before parsing (a batch of 1,000
# typical predictions is about 1 MB); a batch of more items with 413 too.
LEDGER_MAX_REQUEST_BYTES = env_positive_int("LEDGER_MAX_REQUEST_BYTES", 8 * 1024 * 1024)
LEDGER_MAX_BATCH = env_positive_int("LEDGER_MAX_BATCH", 5000)
# verify_ledger fails when a committed entry older than this is in no signed checkpoint (the
# sequencer seals at least every second while entries are pending).
LEDGER_SEAL_BOUND_SECONDS = env_positive_int("LEDGER_SEAL_BOUND_SECONDS", 60)
# Keys the HMACs that find a data subject's key again and recognise retries without revealing
# personal data. Keep it stable: SECRET_KEY serves when unset, and rotating that would then
# orphan every subject's key (erase_subject could no longer find it).
LEDGER_DIGEST_KEY = env("LEDGER_DIGEST_KEY") or SECRET_KEY
DATA_UPLOAD_MAX_MEMORY_SIZE = LEDGER_MAX_REQUEST_BYTES

# Requests per API key in each window (429 with Retry-After beyond): generous enough for the
# demo's batched ingest, a benchmark's single-prediction requests and a fuzzing run.
API_KEY_RATE_LIMIT = env_positive_int("API_KEY_RATE_LIMIT", 100_000)
API_KEY_RATE_WINDOW = env_positive_int("API_KEY_RATE_WINDOW", 60)

# The approval workflow: an approval expires this many months after it was given, by risk tier
# (SR 11-7 asks for at least an annual review of the most material models).
REVALIDATION_MONTHS = {
    1: env_positive_int("REVALIDATION_MONTHS_TIER_1", 12),
    2: env_positive_int("REVALIDATION_MONTHS_TIER_2", 24),
    3: env_positive_int("REVALIDATION_MONTHS_TIER_3", 36),
}

# Celery over Redis for scheduled and heavy work; beat keeps its schedule in the database.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "run-due-reports": {"task": "attest.run_due_reports", "schedule": 60.0},
    "explain-pending": {"task": "attest.explain_pending", "schedule": 5.0},
    "purge-expired": {"task": "attest.purge_expired", "schedule": 24 * 60 * 60.0},
}

# Monitoring: where breach alerts go besides the ledger and the dashboard.
ALERT_WEBHOOK_URL = env("ALERT_WEBHOOK_URL")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "attest@localhost")
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))  # the file-based backend's
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)

# Production hardening: on unless DEBUG; each can be switched off explicitly behind a proxy
# that terminates TLS itself.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# Documents: "request" generates them in the request (the embedded default); "celery" hands
# them to a worker (modelcards.run_document_job) and the client polls the job.
DOCUMENTS_RUN_IN = env("DOCUMENTS_RUN_IN", "request")
if DOCUMENTS_RUN_IN not in ("request", "celery"):
    raise ImproperlyConfigured(f"DOCUMENTS_RUN_IN={DOCUMENTS_RUN_IN!r}: use request or celery")
