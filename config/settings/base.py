"""The settings every environment shares. Concern-specific values live in sibling modules."""

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from config.env import BASE_DIR, env_bool, env_float, env_int, env_list, env_str
from config.settings.audit import *  # noqa: F403
from config.settings.broker import *  # noqa: F403
from config.settings.cache import *  # noqa: F403
from config.settings.consent import *  # noqa: F403
from config.settings.database import *  # noqa: F403
from config.settings.escalations import *  # noqa: F403
from config.settings.llm import *  # noqa: F403
from config.settings.logging import *  # noqa: F403
from config.settings.merchants import *  # noqa: F403
from config.settings.ordering import *  # noqa: F403
from config.settings.sandbox_merchant import *  # noqa: F403
from config.settings.security_auth import *  # noqa: F403

# Django's generic classes take their type parameters at run time too (`admin.ModelAdmin[Model]`), as mypy wants.
django_stubs_ext.monkeypatch()

DEBUG = env_bool("DEBUG", False)

# A development key exists only for DEBUG; anything else must be given a real secret.
_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105 - refused unless DEBUG
SECRET_KEY = env_str("SECRET_KEY") or (_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set SECRET_KEY (50+ random characters) or, for local development only, DEBUG=1."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django_prometheus",
    "config.apps.OrderingAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "audit",
    "consent",
    "catalog_adapters",
    # Switched off (production's default), the sandbox is not installed at all: no models, admin or tasks.
    *(["sandbox_merchant"] if SANDBOX_MERCHANT_ENABLED else []),  # noqa: F405
    "ordering",
    "escalations",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.tracing.TraceIdMiddleware",
    # The balancer's probes and Prometheus's scrapes come with the machine's own name or address as Host.
    "config.health.ProbesAnyHostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside everything that can answer (the error pages included), so every response gets the policy.
    "config.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused before anything reads it: a JSON 413 at every API
    # endpoint, and a 413 for an upload (multipart) anywhere, whose files Django's own limit never counts.
    "config.error_views.RequestSizeLimitMiddleware",
    # Around the session: an answer whose making read the session is `Cache-Control: private, no-store`.
    "config.cache_control.PersonalAnswersNotStoredMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After OTP and messages: it sees the signed-in staff user, ends their session after a working day
    # and says so on the sign-in page.
    "config.staff_sessions.StaffSessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last: turns a sign-in refused for too many failures into the sign-in page with a 429.
    "axes.middleware.AxesMiddleware",
]

# One project, two servers: our site (config.urls), and in a demo the sandbox merchant as its own process
# on its own port (DJANGO_ROOT_URLCONF=sandbox_merchant.server_urls, see scripts/run).
ROOT_URLCONF = env_str("DJANGO_ROOT_URLCONF", "config.urls")
if ROOT_URLCONF not in ("config.urls", "sandbox_merchant.server_urls"):
    raise ImproperlyConfigured(
        f"DJANGO_ROOT_URLCONF={ROOT_URLCONF!r}: use config.urls or sandbox_merchant.server_urls."
    )
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "config.csp.nonce",
                "config.context_processors.site",
            ],
        },
    },
]

# At least 12 characters (OWASP ASVS 2.1.1; Django's default is 8), for every password set through Django (staff
# accounts made with create_staff_user, the staff console's password forms, createsuperuser).
PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 12)
if PASSWORD_MIN_LENGTH < 8:
    raise ImproperlyConfigured(f"PASSWORD_MIN_LENGTH={PASSWORD_MIN_LENGTH} is below 8, the least any guidance accepts.")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Outside production, WhiteNoise serves static files straight from the apps; production collects them.
STATIC_ROOT = env_str("STATIC_ROOT") or None
# Project-wide assets (the chat widget), beside each app's own static/ folder.
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.api_exception_handler",
    # JSON objects and forms only: a JSON body of another shape is a 400 before any view reads it (config/api.py).
    "DEFAULT_PARSER_CLASSES": [
        "config.api.JSONObjectParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # DRF's own client address (anonymous throttles) trusts X-Forwarded-For exactly as config.client_ip does.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,  # noqa: F405
    # Customer turns (chat messages and confirmations) per user; views opt in with ordering.api.TurnRateThrottle.
    "DEFAULT_THROTTLE_RATES": {"conversation_turns": env_str("ORDERING_TURNS_RATE", "30/min")},
}
# While PostgreSQL, Redis or the broker cannot be reached, the API answers 503 with this Retry-After
# (config/outages.py); the chat widget waits that long and tries again.
API_OUTAGE_RETRY_AFTER_SECONDS = env_int("API_OUTAGE_RETRY_AFTER_SECONDS", 5)
# After the shared cache (Redis) failed, a web process counts rate limits in its own memory for this long before
# it asks Redis again (config/throttling.py): each ask of an unreachable Redis may cost its connect timeout.
API_THROTTLE_SHARED_CACHE_RETRY_SECONDS = env_float("API_THROTTLE_SHARED_CACHE_RETRY_SECONDS", 5.0)
SPECTACULAR_SETTINGS = {
    "TITLE": "Agentic ordering assistant API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from drf-spectacular-sidecar, served by us: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Each concern module may define `<NAME>_BEAT_SCHEDULE`; beat runs the union of them.
CELERY_BEAT_SCHEDULE = {
    entry: schedule
    for name, value in dict(globals()).items()
    if name.endswith("_BEAT_SCHEDULE") and name != "CELERY_BEAT_SCHEDULE"
    for entry, schedule in value.items()
}

if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    # The file transport has no host; kombu warns about that on every connection.
    LOGGING["loggers"]["kombu.connection"] = {"level": "ERROR"}  # noqa: F405

# Read by config/process_heap.py in each gunicorn worker and Celery pool process, which cannot refuse a bad value
# (a Celery pool process would only log it and run with CPython's collector); read here too, so every role refuses
# to start on it.
PROCESS_GC_GEN0_THRESHOLD = env_int("PROCESS_GC_GEN0_THRESHOLD", 20_000)
if PROCESS_GC_GEN0_THRESHOLD < 0:
    raise ImproperlyConfigured(
        f"PROCESS_GC_GEN0_THRESHOLD={PROCESS_GC_GEN0_THRESHOLD} cannot be negative; 0 leaves the collector as it is."
    )

# The shop's name in page headers and titles.
SHOP_NAME = env_str("SHOP_NAME", "Stride & Ridge")

# The staff OTP issuer shown in authenticator apps.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Ordering assistant")

# /metrics is for Prometheus; when a token is set, scrapes must send `Authorization: Bearer <token>`.
METRICS_BEARER_TOKEN = env_str("METRICS_BEARER_TOKEN")

# A public demo deployment of the sandbox shop: lets production run the sandbox merchant with its
# published dev token and secret and as the default merchant (config/checks.py). Never for real money.
DEMO_MODE = env_bool("DEMO_MODE", False)

# The Content-Security-Policy of every page (config/csp.py); "'nonce'" becomes the request's nonce.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'nonce'"],
    "style-src": ["'self'", "'nonce'"],
    "style-src-attr": ["'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# A staff session ends this long after sign-in, however active (config/staff_sessions.py); customers
# keep SESSION_COOKIE_AGE.
STAFF_SESSION_MAX_AGE_SECONDS = env_int("STAFF_SESSION_MAX_AGE_SECONDS", 8 * 3600)
# A customer's session ends this long after sign-in (Django's SESSION_COOKIE_AGE; two weeks, Django's default). The
# operator's choice: OWASP ASVS level 2 asks for 12 hours (43200); each order is still confirmed, capped and, when
# risky, stepped up (docs/security/production.md, "Session lifetimes").
SESSION_COOKIE_AGE = env_int("CUSTOMER_SESSION_MAX_AGE_SECONDS", 14 * 24 * 3600)
if SESSION_COOKIE_AGE <= 0 or STAFF_SESSION_MAX_AGE_SECONDS <= 0:
    raise ImproperlyConfigured(
        "CUSTOMER_SESSION_MAX_AGE_SECONDS and STAFF_SESSION_MAX_AGE_SECONDS must be a number of seconds above 0."
    )
