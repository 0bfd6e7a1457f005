"""Production: refuses to start without its secrets and passes `manage.py check --deploy`."""

import os
from types import SimpleNamespace

from django.core.exceptions import ImproperlyConfigured

from config.env import BASE_DIR, env_bool, env_int, env_str

# The built-in sandbox merchant is a demo: off in production unless the deployment says it is a demo.
# Decided before base reads SANDBOX_MERCHANT_ENABLED (an explicit value still wins, and is checked below).
os.environ.setdefault("SANDBOX_MERCHANT_ENABLED", "1" if env_bool("DEMO_MODE", False) else "0")

from config import checks
from config.settings.base import *  # noqa: F403
from config.settings.base import ALLOWED_HOSTS, CACHES, DATABASE_URL, DEMO_MODE, METRICS_BEARER_TOKEN

DEBUG = False

if not env_str("SECRET_KEY") or len(env_str("SECRET_KEY")) < 50:
    raise ImproperlyConfigured("Production needs SECRET_KEY set to at least 50 random characters.")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Production needs ALLOWED_HOSTS (comma-separated host names).")
if not DATABASE_URL:
    raise ImproperlyConfigured("Production needs DATABASE_URL (postgres://…); the SQLite default is for local use.")

if not DEMO_MODE:
    _problems = checks.sandbox_exposure_problems_from(SimpleNamespace(**globals()))
    if _problems:
        raise ImproperlyConfigured("Production refuses the sandbox merchant's public defaults. " + " ".join(_problems))

# Prometheus scrapes over plain HTTP inside the cluster (SECURE_REDIRECT_EXEMPT below), so /metrics is
# never anonymous in production: refusing to start makes a forgotten token a deploy failure, not a leak.
if len(METRICS_BEARER_TOKEN) < 16:
    raise ImproperlyConfigured(
        "Production needs METRICS_BEARER_TOKEN (16+ random characters); Prometheus sends it as "
        "`Authorization: Bearer <token>` when scraping /metrics."
    )

# Every request reads the signed-in session; with Redis as the cache it is read from there (written through
# to the database, so a flushed cache signs nobody out) instead of one more PostgreSQL query per request,
# which under chat load is mostly the widget polling its turn. Django's cached_db, except that while Redis
# is down sessions are read from the database alone (config/sessions.py).
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    SESSION_ENGINE = "config.sessions"

# TLS ends at the load balancer, which must set X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Probes and Prometheus scrape over plain HTTP inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# `manage.py collectstatic` fills this at deploy time; WhiteNoise serves it with far-future caching.
STATIC_ROOT = env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles"))
WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
