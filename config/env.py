"""Reading configuration from the environment.

Every setting of the project comes through these helpers, so that a bad value fails at start-up
with a message that names the variable, instead of surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

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


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def var_dir() -> Path:
    """Where local state lives when no external service is configured (SQLite, the file broker)."""
    return Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()


_POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}
_SQLITE_SCHEMES = {"sqlite", "sqlite3"}


def parse_database_url(url: str) -> dict:
    """Turn a `DATABASE_URL` into a Django `DATABASES` entry.

    Supported: `postgres://user:password@host:port/name?sslmode=require` (engine wrapped by
    django-prometheus so query metrics appear) and `sqlite:///absolute/path.sqlite3` or
    `sqlite:///relative/path.sqlite3` (relative to the project directory).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in _POSTGRES_SCHEMES:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"DATABASE_URL {redact_url(url)!r} names no database.")
        options = dict(parse_qsl(parts.query))
        conn_max_age = int(options.pop("conn_max_age", "60"))
        return {
            "ENGINE": "django_prometheus.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": conn_max_age,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {"connect_timeout": 5, **options},
        }
    if scheme in _SQLITE_SCHEMES:
        # sqlite:///relative.db -> path "/relative.db"; sqlite:////abs.db -> "//abs.db".
        raw_path = unquote(parts.path)
        if raw_path.startswith("//"):
            path = Path(raw_path[1:])
        elif raw_path in ("", "/"):
            raise ImproperlyConfigured("DATABASE_URL for SQLite needs a file path, e.g. sqlite:///var/db.sqlite3.")
        else:
            path = BASE_DIR / raw_path.lstrip("/")
        return sqlite_database(path)
    raise ImproperlyConfigured(f"DATABASE_URL scheme {scheme!r} is not supported; use postgres://… or sqlite:///…")


def sqlite_database(path: Path) -> dict:
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
