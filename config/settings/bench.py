"""`make bench` (`manage.py bench`) and the servers it starts.

BENCH_BASE=production (the default): production settings, as a deployment runs them (PostgreSQL,
Redis, DEBUG off), on the bench's own Redis index (BENCH_REDIS_URL, default index 15) with the
sandbox shop switched on (DEMO_MODE) and the bench's public, throw-away secrets.
BENCH_BASE=run: `make run`'s configuration (scripts/run: dev settings, SQLite file and file broker
under VAR_DIR, which the bench points at var/bench/run).

Either way the URLconf adds the floor (ordering/benchmark/urls.py: a bare DRF view doing one insert
and one update), which only these settings serve; production's own URLs never include it.
"""

import os

BENCH = True
BENCH_BASE = os.environ.get("BENCH_BASE", "production")

if BENCH_BASE == "run":
    os.environ.setdefault("DEBUG", "1")
    from config.settings.dev import *  # noqa: F403
else:
    _redis = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    for _name in ("REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        os.environ[_name] = _redis
    os.environ.setdefault("SECRET_KEY", "bench-only-throwaway-key-" + "b" * 40)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    os.environ.setdefault("METRICS_BEARER_TOKEN", "bench-metrics-token-not-secret")
    # Plain HTTP on a local socket: no load balancer sets X-Forwarded-Proto here.
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("DEMO_MODE", "1")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    from config.settings.production import *  # noqa: F403

    # Manifest static files need collectstatic; the measured pages are JSON.
    STATIC_ROOT = None
    WHITENOISE_USE_FINDERS = True
    STORAGES = {
        **STORAGES,  # noqa: F405
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

if ROOT_URLCONF == "config.urls":  # noqa: F405 - the sandbox's own server keeps its URLconf
    ROOT_URLCONF = "ordering.benchmark.urls"
