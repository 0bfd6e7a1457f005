"""The least-privilege database role the web and worker processes run as (PostgreSQL).

The owner role owns the schema and runs `migrate`; the app role gets, from `app_role_grant`, normal
DML on the application's tables but only SELECT and INSERT on the append-only audit tables and no
ownership anywhere. PostgreSQL lets only a table's owner (or a member of the owner's role, or a
superuser) ALTER or DROP the table, create, drop or disable its triggers, or replace their function;
so the app role can add audit events and read them, and nothing more, even with arbitrary SQL.

See docs/security/database-roles.md for the deployment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper

from audit.triggers import TABLE as AUDIT_TABLE
from audit.triggers import TABLES as AUDIT_TABLES

# Tables the app may only read and append to. Their rows are history: the events and their seals.
APPEND_ONLY_TABLES = frozenset(AUDIT_TABLES)
# Tables only `migrate` (the owner) writes; the app reads them (e.g. `migrate --check` in a probe).
READ_ONLY_TABLES = frozenset({"django_migrations"})

APPEND_ONLY_PRIVILEGES = "SELECT, INSERT"
READ_ONLY_PRIVILEGES = "SELECT"
# No TRUNCATE (it skips row triggers), REFERENCES or TRIGGER anywhere: plain row DML is all the app does.
READ_WRITE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"

# Anything the app role must not hold on an append-only table, from whatever source (a direct grant,
# PUBLIC, or a role it is a member of).
_FORBIDDEN_ON_APPEND_ONLY = "UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES"
_ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class RoleGrantError(Exception):
    """The role cannot be made a least-privilege app role (unsafe, missing, or not PostgreSQL)."""


@dataclass(frozen=True)
class GrantPlan:
    role: str
    statements: list[str]
    append_only_tables: list[str]
    read_write_tables: list[str]
    sequences: list[str]


def _tables(connection: BaseDatabaseWrapper) -> list[str]:
    tables = set(connection.introspection.django_table_names(only_existing=True, include_views=False))
    # The migration recorder's table belongs to no app, so Django's list leaves it out.
    tables |= READ_ONLY_TABLES & set(connection.introspection.table_names(include_views=False))
    return sorted(tables)


def _sequences(connection: BaseDatabaseWrapper, tables: list[str]) -> list[str]:
    """The sequences behind the tables' serial and identity columns."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT sequence.relname
            FROM pg_class sequence
            JOIN pg_depend dependency ON dependency.objid = sequence.oid AND dependency.classid = 'pg_class'::regclass
            JOIN pg_class owner_table ON owner_table.oid = dependency.refobjid
            WHERE sequence.relkind = 'S'
              AND owner_table.relname = ANY(%s)
              AND pg_catalog.pg_table_is_visible(owner_table.oid)
            ORDER BY sequence.relname
            """,
            [tables],
        )
        return [row[0] for row in cursor.fetchall()]


def _refuse_unsafe_role(connection: BaseDatabaseWrapper, role: str, tables: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            raise RoleGrantError(f"There is no database role {role!r}. Create it first: CREATE ROLE {role} LOGIN;")
        if row[0]:
            raise RoleGrantError(f"{role!r} is a superuser: it could lift the audit triggers. Use a plain role.")
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == role:
            raise RoleGrantError(f"{role!r} is the role running this command (the owner); the app needs its own role.")
        cursor.execute(
            """
            SELECT relname, pg_catalog.pg_get_userbyid(relowner)
            FROM pg_class
            WHERE relname = ANY(%s) AND pg_catalog.pg_table_is_visible(oid)
              AND pg_catalog.pg_has_role(%s, relowner, 'MEMBER')
            ORDER BY relname
            """,
            [tables, role],
        )
        owned = cursor.fetchall()
    if owned:
        table, owner = owned[0]
        raise RoleGrantError(
            f"{role!r} owns {table} (owner {owner!r}, or is a member of that role), so it could alter or drop the "
            f"audit triggers; {len(owned)} table(s) affected. Make the owner a separate role and migrate as it."
        )


def app_role_grant_plan(*, role: str, connection: BaseDatabaseWrapper = default_connection) -> GrantPlan:
    """The statements that give `role` exactly the app's privileges on the migrated tables."""
    if connection.vendor != "postgresql":
        raise RoleGrantError(f"Database roles are a PostgreSQL deployment; this database is {connection.vendor}.")
    if not _ROLE_NAME.fullmatch(role):
        raise RoleGrantError(f"{role!r} is not a plain role name (letters, digits and _, at most 63).")
    tables = _tables(connection)
    if AUDIT_TABLE not in tables:
        raise RoleGrantError(f"{AUDIT_TABLE} does not exist yet: run `manage.py migrate` as the owner first.")
    _refuse_unsafe_role(connection, role, tables)
    quote = connection.ops.quote_name
    grantee = quote(role)
    statements = [
        f"GRANT CONNECT ON DATABASE {quote(connection.settings_dict['NAME'])} TO {grantee}",
        f"GRANT USAGE ON SCHEMA {quote(_current_schema(connection))} TO {grantee}",
    ]
    for table in tables:
        if table in APPEND_ONLY_TABLES:
            privileges = APPEND_ONLY_PRIVILEGES
        elif table in READ_ONLY_TABLES:
            privileges = READ_ONLY_PRIVILEGES
        else:
            privileges = READ_WRITE_PRIVILEGES
        # Revoke first, so running it again also removes anything granted by hand since.
        statements.append(f"REVOKE ALL ON TABLE {quote(table)} FROM {grantee}")
        statements.append(f"GRANT {privileges} ON TABLE {quote(table)} TO {grantee}")
    sequences = _sequences(connection, tables)
    for sequence in sequences:
        statements.append(f"REVOKE ALL ON SEQUENCE {quote(sequence)} FROM {grantee}")
        statements.append(f"GRANT USAGE, SELECT ON SEQUENCE {quote(sequence)} TO {grantee}")
    return GrantPlan(
        role=role,
        statements=statements,
        append_only_tables=[table for table in tables if table in APPEND_ONLY_TABLES],
        read_write_tables=[table for table in tables if table not in APPEND_ONLY_TABLES | READ_ONLY_TABLES],
        sequences=sequences,
    )


def _current_schema(connection: BaseDatabaseWrapper) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


def app_role_grant(*, role: str, connection: BaseDatabaseWrapper = default_connection) -> GrantPlan:
    """Apply the plan in one transaction, then prove the append-only tables are append-only for `role`.

    Run as the owner after every `migrate` (new tables need their grants). The final check catches
    privileges that come from elsewhere (PUBLIC, another role `role` is a member of).
    """
    from django.db import transaction

    plan = app_role_grant_plan(role=role, connection=connection)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for statement in plan.statements:
            cursor.execute(statement)
        for table in plan.append_only_tables:
            cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, _FORBIDDEN_ON_APPEND_ONLY])
            if cursor.fetchone()[0]:
                raise RoleGrantError(
                    f"{role!r} still holds one of {_FORBIDDEN_ON_APPEND_ONLY} on {table} through PUBLIC or a role "
                    f"it is a member of; revoke that grant and run this again."
                )
    return plan
