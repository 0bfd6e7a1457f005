"""The database triggers that make the audit tables append-only, per database vendor.

Both the events (`audit_auditevent`) and their places in the chain (`audit_auditseal`) only ever
grow. Installed by migrations 0002 and 00NN_audit_async_seal. The only code that removes them is the
test runner's `flush` between transactional tests (see audit/management/commands/flush.py), and only
under test settings.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_auditevent"
SEAL_TABLE = "audit_auditseal"
TABLES = (TABLE, SEAL_TABLE)


def _postgres_install(table: str) -> list[str]:
    return [
        f"""
        CREATE OR REPLACE FUNCTION {table}_refuse_change() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '{table} is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
        END;
        $$ LANGUAGE plpgsql
        """,
        f"""
        CREATE OR REPLACE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()
        """,
        f"""
        CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_change()
        """,
    ]


def _postgres_uninstall(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"DROP FUNCTION IF EXISTS {table}_refuse_change()",
    ]


# SQLite has no TRUNCATE: its equivalent, an unqualified DELETE, fires the DELETE trigger (a table
# with triggers never takes SQLite's truncate shortcut).
def _sqlite_install(table: str) -> list[str]:
    return [
        f"""
        CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END
        """,
        f"""
        CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END
        """,
    ]


def _sqlite_uninstall(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_update", f"DROP TRIGGER IF EXISTS {table}_no_delete"]


def _statements(connection: BaseDatabaseWrapper, *, install: bool, tables: tuple[str, ...]) -> list[str]:
    if connection.vendor == "postgresql":
        build = _postgres_install if install else _postgres_uninstall
    elif connection.vendor == "sqlite":
        build = _sqlite_install if install else _sqlite_uninstall
    else:
        raise NotImplementedError(f"append-only triggers are not written for {connection.vendor}")
    existing = set(connection.introspection.table_names())
    return [statement for table in tables if table in existing for statement in build(table)]


def install(connection: BaseDatabaseWrapper, *, tables: tuple[str, ...] = TABLES) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection, install=True, tables=tables):
            cursor.execute(statement)


def uninstall(connection: BaseDatabaseWrapper, *, tables: tuple[str, ...] = TABLES) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection, install=False, tables=tables):
            cursor.execute(statement)
