"""The pytest suite. Services come from the environment exactly as in production."""

import os

# The sandbox merchant answers from the live server under /sandbox-merchant/ (config/urls.py).
os.environ.setdefault("SANDBOX_MERCHANT_IN_PROCESS", "1")
os.environ.setdefault("SECRET_KEY", "test-only-key-" + "x" * 40)

from config.env import env_bool
from config.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["*"]

# SQLite runs (no DATABASE_URL) keep their test database in a file, not memory, so that a worker
# or server started by a test in another process sees the same data.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(var_dir() / "test-db.sqlite3")}  # noqa: F405

# A queue of this run's own: a Redis shared with other runs never hands us their leftover tasks.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_DEFAULT_QUEUE") or f"test-{os.getpid()}"
ORDERING_TURN_QUEUE = os.environ.get("ORDERING_TURN_QUEUE") or f"test-turns-{os.getpid()}"
# Conversation tests run each turn inside the request (the same 202 body, done); the tests of the
# background path switch this off and start a real worker on the turn queue.
ORDERING_TURNS_INLINE = env_bool("ORDERING_TURNS_INLINE", True)

# Django's test runner empties every table between transactional tests with `flush`; the audit app's
# flush lifts the append-only triggers for that alone, and only when this is set.
AUDIT_ALLOW_FLUSH = True
# Test workers start often and tests count merchant requests: no catalog warm-up unless a test asks for it.
ORDERING_WARM_LEXICON = env_bool("ORDERING_WARM_LEXICON", False)
