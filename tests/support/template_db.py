"""Each test database is a copy of one migrated template instead of running every migration again (a pytest plugin).

pytest-django creates one test database per pytest-xdist worker (test_<name>_gw0, _gw1, …) and runs every
migration in each: about 2 s of CPU per worker here, plus PostgreSQL's for the DDL, before the worker's first
database test. On PostgreSQL this plugin migrates a template database once and names it as the test database's
TEMPLATE (Django's `TEST["TEMPLATE"]`), so `CREATE DATABASE` copies it (~0.2 s) and Django's migrate finds
nothing left to apply.

The template is `tpl_<name>_<key>`, where the key hashes the migration files, the settings modules and Django's
version: a change to any of them makes a new template (the older ones of the same name are dropped when it is
built). The first worker to need it builds it, by `manage.py migrate` in a child process (so no connection to it
stays open: PostgreSQL copies only a database nobody is connected to), while the others wait on a PostgreSQL
advisory lock. Anything that goes wrong leaves the setting alone: the worker migrates its own database as before.
`--nomigrations`, `--reuse-db` and SQLite are left alone too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config.schema import schema_key
from tests.support import services

REPOSITORY = Path(__file__).resolve().parents[2]


def template_key() -> str:
    """What the migrated schema depends on (config.schema.schema_key): the migrations, the settings, Django."""
    return schema_key(REPOSITORY)


def template_name(base_name: str, key: str) -> str:
    """`tpl_<name>_<key>`, within PostgreSQL's 63 bytes for a name."""
    return f"tpl_{base_name[:40]}_{key}"


def template_ensure(settings_dict: dict, *, base_name: str) -> str:
    """The migrated template of `base_name`'s test databases, built now if it does not exist yet."""
    from psycopg import sql

    name = template_name(base_name, template_key())
    with services.postgres_admin_connection(settings_dict, autocommit=True) as admin:
        # One builder at a time; the others wait here and then find it built.
        admin.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"template_db:{base_name}"])
        try:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists:
                return name
            stale = admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
                [template_name(base_name, "%"), name],
            ).fetchall()
            for (old,) in stale:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(old)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            environment = services.child_env(DATABASE_URL=services.database_url_for({**settings_dict, "NAME": name}))
            built = subprocess.run(  # our own manage.py
                [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
                cwd=REPOSITORY,
                env=environment,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if built.returncode != 0:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                raise RuntimeError(f"migrating the template {name} failed:\n{built.stderr[-2000:]}")
            return name
        finally:
            admin.execute("SELECT pg_advisory_unlock(hashtext(%s))", [f"template_db:{base_name}"])


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request, django_db_modify_db_settings_parallel_suffix) -> None:
    """pytest-django's hook "just before the databases are configured": name the migrated template."""
    from django.conf import settings

    if request.config.getvalue("nomigrations") or request.config.getvalue("reuse_db"):
        return
    database = settings.DATABASES["default"]
    if "postgresql" not in database.get("ENGINE", "") or database.get("TEST", {}).get("TEMPLATE"):
        return
    base_name = database["NAME"]
    try:
        template = template_ensure(database, base_name=base_name)
    except Exception as error:  # any failure: this worker migrates its own database, as before
        sys.stderr.write(f"template_db: migrating this worker's own database ({error})\n")
        return
    database.setdefault("TEST", {})["TEMPLATE"] = template
