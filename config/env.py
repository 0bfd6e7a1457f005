"""Reading configuration from the environment.

Every setting of the project comes through these helpers, so that a bad value fails at start-up
with a message that names the variable, instead of surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


_REDIS_SCHEMES = {"redis", "rediss", "unix"}


def env_redis_url(name: str) -> str:
    """A Redis URL (`redis://[:password@]host[:port][/db]`, `rediss://…`, `unix:///path`), or "" when unset.

    Checked here because nothing reads it before the first request or task: a URL without its scheme otherwise
    surfaced in a worker as "No module named 'localhost'", a port that is not a number as urllib's own words.
    """
    url = env_str(name).strip()
    if not url:
        return ""
    problem = ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        problem = "its port is not a number"
    else:
        if parts.scheme.lower() not in _REDIS_SCHEMES:
            problem = "it needs redis://, rediss:// or unix://"
        elif parts.scheme.lower() != "unix" and parts.path.strip("/") and not parts.path.strip("/").isdigit():
            problem = "its database (the path) must be a number, e.g. /0"
    if problem:
        raise ImproperlyConfigured(
            f"{name}={redact_url(url)!r} is not a Redis URL: {problem} (redis://[:password@]host:6379/0)."
        )
    return url


def var_dir() -> Path:
    """Where local state lives when no external service is configured (SQLite, the file broker)."""
    return Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()


_POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}
_SQLITE_SCHEMES = {"sqlite", "sqlite3"}
# Each web thread and worker process keeps its connection this long (README, "Production").
_DEFAULT_CONN_MAX_AGE = 60


def parse_database_url(url: str) -> dict[str, Any]:
    """Turn a `DATABASE_URL` into a Django `DATABASES` entry (dj-database-url reads the URL).

    Supported: `postgres://user:password@host:port/name?sslmode=require` (engine wrapped by
    django-prometheus so query metrics appear; `conn_max_age` in the query string, default 60 s, with
    health checks so a connection the server dropped is replaced) and `sqlite:///absolute/path.sqlite3`
    or `sqlite:///relative/path.sqlite3` (relative to the project directory, not the current one). Any
    other scheme, and an in-memory SQLite database that a worker process could never share, is refused.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme in _POSTGRES_SCHEMES:
        return _postgres_database(url)
    if scheme in _SQLITE_SCHEMES:
        # dj-database-url knows the scheme as "sqlite"; "sqlite3" is our older spelling of it.
        parsed = dj_database_url.parse("sqlite" + url[len(scheme) :])
        name = parsed.get("NAME", "")
        if name in ("", ":memory:"):
            raise ImproperlyConfigured("DATABASE_URL for SQLite needs a file path, e.g. sqlite:///var/db.sqlite3.")
        return sqlite_database(BASE_DIR / name)  # an absolute name replaces BASE_DIR
    raise ImproperlyConfigured(f"DATABASE_URL scheme {scheme!r} is not supported; use postgres://… or sqlite:///…")


def _postgres_database(url: str) -> dict[str, Any]:
    try:
        parsed = dj_database_url.parse(url, engine="django_prometheus.db.backends.postgresql")
    except ValueError:
        raise ImproperlyConfigured(f"DATABASE_URL {redact_url(url)!r} is not a valid URL.") from None
    if not parsed.get("NAME"):
        raise ImproperlyConfigured(f"DATABASE_URL {redact_url(url)!r} names no database.")
    options = parsed.get("OPTIONS", {})
    conn_max_age = options.pop("conn_max_age", _DEFAULT_CONN_MAX_AGE)
    if not isinstance(conn_max_age, int) or isinstance(conn_max_age, bool):
        raise ImproperlyConfigured(f"DATABASE_URL's conn_max_age={conn_max_age!r} is not a number of seconds.")
    return {
        **parsed,
        "PORT": str(parsed.get("PORT", "")),
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 5, **options},
    }


def with_connection_pool(database: dict[str, Any], *, max_size: int, min_size: int, timeout: float) -> dict[str, Any]:
    """A PostgreSQL `DATABASES` entry that takes its connections from a pool of this process (Django's psycopg
    pool, `OPTIONS["pool"]`) instead of keeping one per thread; any other entry, or `max_size` 0, unchanged.

    A request (or a long-poll before it waits) hands its connection back to the pool when it ends, so threads that
    wait hold none and a process never has more than `max_size` open; the pool keeps `min_size` open between
    requests and a request that finds every connection taken waits up to `timeout` seconds for one (then
    PostgreSQL counts as unavailable: a 503 with Retry-After; so while PostgreSQL is down a request waits that long
    before its 503, where without a pool the refused connection answers at once). Django's pool needs
    CONN_MAX_AGE 0: the pool, not the thread, keeps the connection. The pool is made at the first query, in the
    process that makes it (never before a fork: gunicorn's processes load the app after forking)."""
    if max_size <= 0 or "postgresql" not in database.get("ENGINE", ""):
        return database
    if not 0 <= min_size <= max_size:
        raise ImproperlyConfigured(
            f"DATABASE_POOL_MIN_SIZE={min_size} must be between 0 and DATABASE_POOL_MAX_SIZE={max_size}."
        )
    if timeout <= 0:
        raise ImproperlyConfigured(f"DATABASE_POOL_TIMEOUT_SECONDS={timeout!r} must be more than 0.")
    # psycopg_pool retries a lost connection in the background with a doubling delay for reconnect_timeout (300 s
    # by default): after a PostgreSQL outage of a minute the pool would only try again after half a minute more.
    # Given up after 2 s, the next request that needs a connection makes one at once.
    pool = {"min_size": min_size, "max_size": max_size, "timeout": timeout, "reconnect_timeout": 2.0}
    return {**database, "CONN_MAX_AGE": 0, "OPTIONS": {**database.get("OPTIONS", {}), "pool": pool}}


def sqlite_database(path: Path) -> dict[str, Any]:
    return {
        "ENGINE": "django_prometheus.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # WAL lets the web process read while a worker writes; IMMEDIATE takes the write lock
            # when a transaction starts, so two writers queue instead of failing mid-transaction.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


def redact_url(url: str) -> str:
    """The URL with its password replaced, for log lines and error messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
