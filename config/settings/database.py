from config.env import (
    env_bool,
    env_float,
    env_int,
    env_str,
    parse_database_url,
    sqlite_database,
    var_dir,
    with_connection_pool,
)

# The role in this URL is the one the process runs as. In a least-privilege deployment (see
# docs/security/database-roles.md) the web and worker processes use the app role's URL, and only
# the migrate job uses the owner's URL (DATABASE_URL=$DATABASE_OWNER_URL manage.py migrate).
DATABASE_URL = env_str("DATABASE_URL")

DATABASES = {"default": parse_database_url(DATABASE_URL) if DATABASE_URL else sqlite_database(var_dir() / "db.sqlite3")}

# A pool of PostgreSQL connections per process (Django's psycopg pool), instead of one kept per thread: the web
# role turns it on (config/gunicorn.py: 16 per process), where 40 threads, most of them long-polls that hold no
# connection while they wait, share a few connections, and a long-poll takes one back from the pool after its
# wait instead of opening a new PostgreSQL session. 0 (the default elsewhere: Celery workers, management
# commands, runserver) keeps one connection per thread for `conn_max_age` seconds. SQLite ignores it.
_pool_max_size = env_int("DATABASE_POOL_MAX_SIZE", 0)
DATABASES["default"] = with_connection_pool(
    DATABASES["default"],
    max_size=_pool_max_size,
    min_size=env_int("DATABASE_POOL_MIN_SIZE", min(2, _pool_max_size)),
    timeout=env_float("DATABASE_POOL_TIMEOUT_SECONDS", 10),
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The app's role. When set, `migrate` (run as the owner) ends by granting it exactly the app's
# privileges (`manage.py db_grant_app_role`), so a new table is never left without its grant.
DATABASE_APP_ROLE = env_str("DATABASE_APP_ROLE")

# A chat turn's hot paths are single hand-written statements on PostgreSQL (config/statements.py); 0 runs
# their ORM equivalents instead (always the case on SQLite). For tests, and as a switch if one misbehaves.
DATABASE_HAND_WRITTEN_SQL = env_bool("DATABASE_HAND_WRITTEN_SQL", True)
