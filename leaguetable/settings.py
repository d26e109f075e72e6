"""One settings module, driven by environment variables.

With nothing set the portal runs on SQLite with Celery tasks executed in-process, so a newcomer
can clone, `make run` and use it. Setting DATABASE_URL, CELERY_BROKER_URL and REDIS_URL switches
to the real services used in production.
"""

import math
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
# Public in the repository: it signs nothing that matters on a developer's machine, and the
# settings refuse to start with it once DEBUG is off.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me-for-any-real-deployment"


def _env(name: str, default: str) -> str:
    # An empty (or blank) variable counts as unset, as `VAR= make run` intends.
    return (os.getenv(name) or "").strip() or default


def envbool(name: str, default: str) -> bool:
    """A yes/no setting; a typo such as `Ture` stops the start-up rather than meaning False."""
    value = _env(name, default)
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a yes/no value: use one of {', '.join(TRUE_WORDS)} or "
        f"{', '.join(FALSE_WORDS)}."
    )


def envint(name: str, default: str) -> int:
    value = _env(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None


def envfloat(name: str, default: str) -> float:
    value = _env(name, default)
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number of seconds (0 or more).")
    return number


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "True")
SECRET_KEY = _env("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
if not DEBUG and (
    SECRET_KEY == DEVELOPMENT_SECRET_KEY or SECRET_KEY.startswith("django-insecure-")
):
    # Sessions, CSRF tokens and password-reset links are signed with it: a key that is public
    # in the repository would let anyone forge them.
    raise ImproperlyConfigured(
        "SECRET_KEY is not set (or is the public development key) while DEBUG is off. Set "
        "SECRET_KEY to a long random secret kept out of the repository, for example the output "
        "of: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "axes",
    "csp",
    "trusts",
    "metrics",
    "releases",
    "interventions",
    "public",
    "outbox",
    "leaguetable",
]

MIDDLEWARE = [
    # First: a stored public response already carries the security and CSP headers the layers
    # below gave it when it was rendered, so a repeated request costs a key and a lookup, and
    # sessions, authentication and CSRF are never even looked at.
    "public.caching.PublicCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions and authentication: a malformed address never reaches the database.
    "leaguetable.middleware.RefuseUnreadableRequests",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # An admin id no row could have (a history version, a list selection) is a 404 or 400.
    "adminkit.malformed.RefuseMalformedAdminIds",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "leaguetable.urls"
WSGI_APPLICATION = "leaguetable.wsgi.application"

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

DATABASES = {
    # An empty DATABASE_URL counts as unset, as in the other settings.
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", "60"),
        # A connection the server dropped is replaced at the next request, not answered 500.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Imports and recomputes write in one transaction while the web process reads; without a
    # busy timeout SQLite answers "database is locked" instead of waiting.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

# How long a web process trusts the publication generation it last read (public/caching.py)
# before asking the database again. On PostgreSQL every ask is a round trip, the biggest cost
# of a stored page; publications and withdrawals wait this long after their commit before they
# report done, so none is ever missed by a request that comes after. An SQLite file tells each
# change in a read of its header, so it is asked every time.
PUBLIC_GENERATION_LEASE = envfloat(
    "PUBLIC_GENERATION_LEASE",
    "0" if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else "0.02",
)
if PUBLIC_GENERATION_LEASE > 1:
    raise ImproperlyConfigured(
        f"PUBLIC_GENERATION_LEASE={PUBLIC_GENERATION_LEASE} is too long: every publication and "
        "withdrawal waits that long before it reports done. Use at most 1 second."
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The NHS.UK design system, installed by `npm ci` (make run / make test), never committed.
NHSUK_FRONTEND_DIR = BASE_DIR / "node_modules" / "nhsuk-frontend" / "dist"
STATICFILES_DIRS = [NHSUK_FRONTEND_DIR] if NHSUK_FRONTEND_DIR.exists() else []
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", str(BASE_DIR / "media")))

REDIS_URL = os.getenv("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis unreachable means no cache, not an error page (leaguetable/cache.py).
            "BACKEND": "leaguetable.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = os.getenv("CELERY_BROKER_URL", "")
# Without a broker, tasks run in the calling process so nothing else needs installing.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.getenv("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
# Nothing in the portal reads a task's return value, and a process that subscribes to every
# result it might read breaks for good when Redis blips; a caller that wants one asks for it.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With the broker down, a request that queues a task gives up within about a second and the
# task is recorded for the beat to queue again (leaguetable/celery.py), instead of hanging.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3}
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", str(8 * 60 * 60))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = envint("AXES_COOLOFF_MINUTES", "30") / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A page in the refused sign-in's own layout, saying for how long and whom to ask.
AXES_LOCKOUT_CALLABLE = "leaguetable.lockout.lockout_response"

EMAIL_BACKEND = os.getenv("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "league-tables@localhost")

if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "True")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# Scripts and styles come only from our own static files (no inline code, so no per-request
# nonce either, which keeps rendered pages cacheable as bytes); the NHS.UK frontend's fonts come
# from assets.nhs.uk, its icons are data: URIs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "https://assets.nhs.uk"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "leaguetable.renderers.BrowsableAPIRenderer",
    ],
    # Sessions only (the trust area); the open API is anonymous. No HTTP Basic anywhere.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_CLASSES": ["public.api.throttling.AnonymousRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": os.getenv("API_ANON_RATE", "6000/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "NHS trust league tables API",
    "DESCRIPTION": "Published NHS Oversight Framework league tables. Open Government Licence v3.0.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: no CDN, so the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    # In-process (eager) tasks would log a line per task run.
    "loggers": {"celery.app.trace": {"level": "WARNING"}},
}
AXES_VERBOSE = envbool("AXES_VERBOSE", "False")

# Board members sign in to their trust area; regulators use the admin sign-in.
LOGIN_URL = "trust_area:login"

# Reasons in every history are as long as the regulator needs: the figures behind a proposal
# or a review are part of the why.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
