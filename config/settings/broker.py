"""Celery: Redis when `REDIS_URL`/`CELERY_BROKER_URL` is set, otherwise a broker that needs no server.

The embedded default is kombu's filesystem transport plus Celery's file result backend under
`VAR_DIR`, so `make run` starts a real worker and beat on a machine with nothing else running.
"""

from config.env import env_int, env_redis_url, env_str, var_dir

REDIS_URL = env_redis_url("REDIS_URL")
_broker_dir = var_dir() / "broker"

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or REDIS_URL or f"file://{var_dir() / 'results'}"

if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange bindings; kombu's default is ./control in whatever directory the process started.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any countdown or ETA we schedule, so Redis does not redeliver a task that is
        # merely waiting; a worker that dies mid-task still gets its task redelivered after this.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    }

CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_DEFAULT_QUEUE", "default")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Keep Django's LOGGING (JSON lines with trace ids) in the worker instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fix-up closes the database connection around every task unless this is set; it then closes it
# only every this many tasks, and config/worker_connections.py closes it as a web request would (after an error,
# past conn_max_age, or a failed health check), so a worker process keeps one PostgreSQL session for its tasks
# instead of opening one per task. 0 closes around every task (Celery's default).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_BEAT_SCHEDULE_FILENAME = str(var_dir() / "celerybeat-schedule")
