"""Production settings for our site on a test's private PostgreSQL and Redis (tests/support/private_servers.py).

Everything as a deployment runs it (DEBUG off, sessions in Redis written through to PostgreSQL, Redis as
cache, throttle store and Celery broker), with the demo shop on (DEMO_MODE: the sandbox merchant with its
published dev secrets, served by the same server as in the test settings) and three concessions to a test
on a local socket: plain HTTP cookies, static files served from the apps (no collectstatic), and a fast
password hasher (signing in is how these tests get a session, not what they test: production's PBKDF2
costs 0.2 s of CPU per sign-in and per seeded user).
"""

import os

os.environ.setdefault("SECRET_KEY", "private-site-test-only-key-" + "p" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("METRICS_BEARER_TOKEN", "private-site-metrics-token")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DEMO_MODE", "1")
os.environ.setdefault("SANDBOX_MERCHANT_IN_PROCESS", "1")

from config.settings.production import *  # noqa: F403

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Plain HTTP cookies cannot carry production's `__Host-` session cookie name (browsers refuse it without Secure).
SESSION_COOKIE_NAME = "sessionid"
