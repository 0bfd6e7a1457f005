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
from config.settings.base import (
    ALLOWED_HOSTS,
    CACHES,
    CELERY_BROKER_URL,
    DATABASE_URL,
    DATABASES,
    DEMO_MODE,
    METRICS_BEARER_TOKEN,
)

DEBUG = False

if not env_str("SECRET_KEY") or len(env_str("SECRET_KEY")) < 50:
    raise ImproperlyConfigured("Production needs SECRET_KEY set to at least 50 random characters.")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Production needs ALLOWED_HOSTS (comma-separated host names).")
if not DATABASE_URL:
    raise ImproperlyConfigured("Production needs DATABASE_URL (postgres://…); the SQLite default is for local use.")
# Web, workers and beat run on several machines and must see one database: a SQLite file is one machine's.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    raise ImproperlyConfigured(
        "Production needs DATABASE_URL=postgres://…; a SQLite file is local to one machine, so web and workers on "
        "others would each see a database of their own."
    )
# Without Redis the cache and the Celery broker are files under VAR_DIR: a message posted on a web machine is
# queued on that machine's disk where no worker elsewhere takes it, and rate limits, breakers and the
# published policy version are per machine. Nothing fails at start-up; the chat just never answers.
if not CACHES["default"]["BACKEND"].endswith("RedisCache") or CELERY_BROKER_URL.startswith("filesystem://"):
    raise ImproperlyConfigured(
        "Production needs REDIS_URL (redis://[:password@]host:6379/0, or rediss:// for TLS), or both CACHE_URL and "
        "CELERY_BROKER_URL: the Celery broker, the cache, rate limits and circuit breakers are shared through it. "
        "Without it each machine keeps them in files of its own, and chat turns posted on a web machine never "
        "reach the workers."
    )

if not DEMO_MODE:
    _problems = checks.sandbox_exposure_problems_from(SimpleNamespace(**globals()))
    if _problems:
        raise ImproperlyConfigured("Production refuses the sandbox merchant's public defaults. " + " ".join(_problems))
# A merchant without its token or webhook secret, or reached over plain HTTP off this machine (config/checks.py).
_merchant_problems = checks.merchant_problems_from(SimpleNamespace(**globals()))
if _merchant_problems:
    raise ImproperlyConfigured(" ".join(_merchant_problems))

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
# The __Host- prefix makes browsers accept the cookie only when it is Secure, for the whole site (Path=/) and from
# this host alone (no Domain): a neighbouring subdomain cannot plant a session of its choosing on our customers.
# (The CSRF cookie keeps its name: the chat widget reads `csrftoken`.)
SESSION_COOKIE_NAME = "__Host-sessionid"
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
