"""The pytest suite. Services come from the environment exactly as in production."""

import os
from pathlib import Path

# The sandbox merchant answers from the live server under /sandbox-merchant/ (config/urls.py).
os.environ.setdefault("SANDBOX_MERCHANT_IN_PROCESS", "1")
os.environ.setdefault("SECRET_KEY", "test-only-key-" + "x" * 40)


def _per_xdist_worker() -> None:
    """Under pytest-xdist (PYTEST_XDIST_WORKER=gw0, gw1, ...) each worker gets its own Redis index and VAR_DIR.

    The Redis index is REDIS_URL's plus the worker's number (gw1 of redis://host/12 uses /13), so the cache
    (which tests clear with a FLUSHDB), the merchant breakers and the Celery broker are never shared. The
    database is pytest-django's (test_<name>_gw1), queues are per process already (below), ports are free ones.
    Child processes (Celery workers, servers) inherit the changed environment.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or os.environ.get("_TEST_PER_WORKER_DONE") == worker:
        return
    number = int(worker[2:])
    from urllib.parse import urlsplit, urlunsplit

    for name in ("REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        url = os.environ.get(name, "")
        if not url.startswith(("redis://", "rediss://")):
            continue
        parts = urlsplit(url)
        index = int(parts.path.strip("/") or 0) + number
        if index > 15:
            raise RuntimeError(f"{name}={url} leaves no Redis index for xdist worker {worker} (16 indexes: 0-15)")
        os.environ[name] = urlunsplit(parts._replace(path=f"/{index}"))
    base_var = os.environ.get("VAR_DIR") or str(Path(__file__).resolve().parents[2] / "var")
    os.environ["VAR_DIR"] = str(Path(base_var) / f"xdist-{worker}")
    os.environ["_TEST_PER_WORKER_DONE"] = worker


_per_xdist_worker()

from config.env import env_bool  # noqa: E402 - after the environment above is settled
from config.settings.base import *  # noqa: E402, F403

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

# PostgreSQL: a test's commit does not wait for its WAL to reach the disk (`synchronous_commit=off`, for this
# suite's own connections and the workers and servers it starts with these settings). Visibility and
# isolation are PostgreSQL's as ever, and a commit the server acknowledged is lost only if the machine's
# PostgreSQL itself crashed, which no test does (the outage tests stop clusters of their own,
# tests/support/private_servers.py, which keep it on). On these machines a commit waited 6-8 ms for the disk
# (0.4 ms without), and a run makes tens of thousands of them.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    _options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    _options["options"] = f"{_options.get('options', '')} -c synchronous_commit=off".strip()
