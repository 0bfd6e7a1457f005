"""The least-privilege deployment: the owner migrates, the app runs as a role that can only append to the audit log.

A database of its own is built exactly as docs/security/database-roles.md says: an owner role (not a
superuser) owns it and runs `manage.py migrate` with DATABASE_APP_ROLE set, which grants the app role;
then the app role, connected the way the web and worker processes connect, is tried against the
audit table with real SQL and with the real services.
"""

from __future__ import annotations

import copy
import io
import json
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connections

from audit.models import AuditEvent, AuditSeal
from audit.selectors import audit_chain_verify
from audit.services import audit_record, audit_seal
from consent.models import ConsentGrant, GrantChannel, GrantStatus, Scope
from consent.services.grants import consent_grant, consent_revoke
from tests.support import zygote
from tests.support.services import PROJECT_DIR, CeleryWorker, child_env

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Deployment:
    database: str
    owner: str
    app: str
    host: str
    port: str
    superuser: str

    def url(self, role: str) -> str:
        port = f":{self.port}" if self.port else ""
        return f"postgres://{role}@{self.host}{port}/{self.database}"

    def connect(self, role: str) -> psycopg.Connection:
        # The test server trusts local connections, so a role logs in by name alone.
        return psycopg.connect(host=self.host, port=self.port or None, dbname=self.database, user=role, autocommit=True)


def _superuser_connection(settings_dict: dict, dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or None,
        dbname=dbname,
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        autocommit=True,
    )


@pytest.fixture(scope="module")
def deployment(django_db_setup, django_db_blocker) -> Iterator[Deployment]:
    with django_db_blocker.unblock():
        settings_dict = copy.deepcopy(connections["default"].settings_dict)
    suffix = uuid.uuid4().hex[:10]
    deployment = Deployment(
        database=f"{settings_dict['NAME']}_lp_{suffix}"[:63],
        owner=f"lp_owner_{suffix}",
        app=f"lp_app_{suffix}",
        host=settings_dict["HOST"] or "localhost",
        port=str(settings_dict["PORT"] or ""),
        superuser=settings_dict["USER"],
    )
    with _superuser_connection(settings_dict) as admin:
        admin.execute(f'CREATE ROLE "{deployment.owner}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
        admin.execute(f'CREATE ROLE "{deployment.app}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
        admin.execute(f'CREATE DATABASE "{deployment.database}" OWNER "{deployment.owner}"')
    try:
        # The release step: migrate as the owner; DATABASE_APP_ROLE makes it grant the app role at the end.
        migrate = zygote.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=PROJECT_DIR,
            env=child_env(DATABASE_URL=deployment.url(deployment.owner), DATABASE_APP_ROLE=deployment.app),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert migrate.returncode == 0, migrate.stderr
        yield deployment
    finally:
        with _superuser_connection(settings_dict) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{deployment.database}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{deployment.app}"')
            admin.execute(f'DROP ROLE IF EXISTS "{deployment.owner}"')


@contextmanager
def django_connected_as(deployment: Deployment, role: str) -> Iterator[None]:
    """Django's default connection points at the deployment's database as `role`, as a web process would."""
    original = connections["default"]
    settings_dict = copy.deepcopy(original.settings_dict)
    settings_dict.update(NAME=deployment.database, USER=role, PASSWORD="", CONN_MAX_AGE=0)
    wrapper = original.__class__(settings_dict, alias="default")
    connections["default"] = wrapper
    try:
        yield
    finally:
        wrapper.close()
        connections["default"] = original


def _audit_rows(deployment: Deployment) -> list[tuple]:
    with deployment.connect(deployment.owner) as owner:
        rows = owner.execute(
            "SELECT event.sequence, event.outcome, event.data::text, seal.position, seal.hash "
            "FROM audit_auditevent event LEFT JOIN audit_auditseal seal ON seal.event_id = event.id "
            "ORDER BY event.sequence"
        )
        return rows.fetchall()


def _append_as_app(deployment: Deployment) -> None:
    with django_connected_as(deployment, deployment.app):
        audit_record(action="lp.appended", actor_type="system", data={"by": "app role"})


@pytest.mark.django_db
def test_the_app_role_appends_and_reads_audit_events_through_the_real_service(deployment):
    with django_connected_as(deployment, deployment.app):
        first = audit_record(action="lp.first", actor_type="system", data={"n": 1})
        second = audit_record(action="lp.second", actor_type="system", data={"n": 2})
        sealed = audit_seal()
        first_seal = AuditSeal.objects.get(event_id=first.pk)
        second_seal = AuditSeal.objects.get(event_id=second.pk)
        report = audit_chain_verify()

    # The insert (with its sequence), and the sealer's advisory lock, reads and seal inserts, all work
    # with SELECT + INSERT.
    assert second.sequence > first.sequence
    assert sealed >= 2
    assert second_seal.position == first_seal.position + 1
    assert second_seal.previous_hash == first_seal.hash
    assert report.intact
    assert report.count >= 2
    assert _audit_rows(deployment)[-1][:4] == (second.sequence, "ok", '{"n": 2}', second_seal.position)


@pytest.mark.django_db
def test_ordinary_app_work_still_works_as_the_app_role(deployment):
    with django_connected_as(deployment, deployment.app):
        user = get_user_model().objects.create_user(username=f"lp-{uuid.uuid4().hex[:8]}", password="x" * 20)
        grant = consent_grant(user_id=user.pk, scope=Scope.PLACE_ORDERS, via=GrantChannel.SETTINGS_PAGE)
        consent_revoke(user_id=user.pk, grant_id=grant.pk, via=GrantChannel.SETTINGS_PAGE)
        grant.refresh_from_db()
        actions = list(
            AuditEvent.objects.filter(customer_id=user.pk).order_by("sequence").values_list("action", flat=True)
        )
        status = ConsentGrant.objects.get(pk=grant.pk).status

    assert status == GrantStatus.REVOKED
    assert actions == ["consent.grant_created", "consent.grant_revoked"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE audit_auditevent SET outcome = 'denied'", "permission denied for table audit_auditevent"),
        ("DELETE FROM audit_auditevent", "permission denied for table audit_auditevent"),
        ("TRUNCATE audit_auditevent", "permission denied for table audit_auditevent"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER USER", "must be owner of table audit_auditevent"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_update_delete", "must be owner"),
        ("DROP TRIGGER audit_auditevent_no_update_delete ON audit_auditevent", "must be owner"),
        ("DROP TRIGGER audit_auditevent_no_truncate ON audit_auditevent", "must be owner"),
        ("DROP TABLE audit_auditevent", "must be owner of table audit_auditevent"),
        ("ALTER TABLE audit_auditevent RENAME TO audit_old", "must be owner of table audit_auditevent"),
        ("DROP FUNCTION audit_auditevent_refuse_change() CASCADE", "must be owner of function"),
        (
            "CREATE OR REPLACE FUNCTION audit_auditevent_refuse_change() RETURNS trigger AS $$ "
            "BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql",
            "permission denied for schema public",
        ),
        ("ALTER TABLE audit_auditevent OWNER TO CURRENT_USER", "must be owner of table audit_auditevent"),
        ("INSERT INTO django_migrations (app, name, applied) VALUES ('audit', '9999_x', now())", "permission denied"),
        ("UPDATE audit_auditseal SET hash = repeat('0', 64)", "permission denied for table audit_auditseal"),
        ("DELETE FROM audit_auditseal", "permission denied for table audit_auditseal"),
        ("TRUNCATE audit_auditseal", "permission denied for table audit_auditseal"),
        ("ALTER TABLE audit_auditseal DISABLE TRIGGER USER", "must be owner of table audit_auditseal"),
    ],
)
def test_the_app_role_cannot_rewrite_audit_rows_or_touch_the_triggers(deployment, statement, message):
    _append_as_app(deployment)
    with django_connected_as(deployment, deployment.app):
        audit_seal()
    before = _audit_rows(deployment)

    with deployment.connect(deployment.app) as app, pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        app.execute(statement)

    # Refused by the missing privilege itself, before the append-only triggers would even fire.
    assert message in str(refused.value)
    assert "append-only" not in str(refused.value)
    assert _audit_rows(deployment) == before
    with deployment.connect(deployment.owner) as owner:
        triggers = owner.execute(
            "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'audit_auditevent'::regclass "
            "AND NOT tgisinternal ORDER BY tgname"
        ).fetchall()
    assert triggers == [("audit_auditevent_no_truncate", "O"), ("audit_auditevent_no_update_delete", "O")]


@pytest.mark.django_db
def test_the_test_only_flush_cannot_empty_the_log_as_the_app_role(deployment, settings):
    # Even if the app's process were started with test settings (AUDIT_ALLOW_FLUSH), the app role
    # cannot lift the triggers the flush needs lifted, nor truncate the table.
    assert settings.AUDIT_ALLOW_FLUSH is True
    _append_as_app(deployment)
    before = _audit_rows(deployment)

    with django_connected_as(deployment, deployment.app), pytest.raises(DatabaseError, match="must be owner"):
        call_command("flush", "--no-input", verbosity=0)

    assert _audit_rows(deployment) == before
    assert len(before) >= 1


@pytest.mark.django_db
def test_the_grant_command_gives_select_and_insert_only_on_the_audit_table(deployment):
    out = io.StringIO()
    sql = io.StringIO()

    with django_connected_as(deployment, deployment.owner):
        call_command("db_grant_app_role", deployment.app, stdout=out)
        call_command("db_grant_app_role", deployment.app, "--print-sql", stdout=sql)

    assert f"granted {deployment.app}" in out.getvalue()
    assert "SELECT+INSERT only on audit_auditevent" in out.getvalue()
    assert f'GRANT SELECT, INSERT ON TABLE "audit_auditevent" TO "{deployment.app}"' in sql.getvalue()
    assert f'GRANT SELECT, INSERT ON TABLE "audit_auditseal" TO "{deployment.app}"' in sql.getvalue()
    with deployment.connect(deployment.owner) as owner:
        granted = owner.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = %s AND table_name = 'audit_auditevent' ORDER BY privilege_type",
            [deployment.app],
        ).fetchall()
        seal_granted = owner.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = %s AND table_name = 'audit_auditseal' ORDER BY privilege_type",
            [deployment.app],
        ).fetchall()
        owns = owner.execute(
            "SELECT count(*) FROM pg_class WHERE pg_has_role(%s, relowner, 'MEMBER') AND relnamespace = "
            "'public'::regnamespace",
            [deployment.app],
        ).fetchone()[0]
        consent_privileges = owner.execute(
            "SELECT has_table_privilege(%s, 'consent_consentgrant', 'SELECT, INSERT, UPDATE, DELETE'), "
            "has_table_privilege(%s, 'consent_consentgrant', 'TRUNCATE')",
            [deployment.app, deployment.app],
        ).fetchone()
    assert granted == [("INSERT",), ("SELECT",)]
    assert seal_granted == [("INSERT",), ("SELECT",)]
    assert owns == 0
    assert consent_privileges == (True, False)


@pytest.mark.django_db
def test_the_grant_command_refuses_roles_that_could_lift_the_triggers(deployment):
    member = f"{deployment.owner}_member"
    with deployment.connect(deployment.superuser) as admin:
        admin.execute(f'CREATE ROLE "{member}" LOGIN IN ROLE "{deployment.owner}"')
    try:
        with django_connected_as(deployment, deployment.owner):
            with pytest.raises(CommandError, match="is the role running this command"):
                call_command("db_grant_app_role", deployment.owner, stdout=io.StringIO())
            with pytest.raises(CommandError, match="is a superuser"):
                call_command("db_grant_app_role", deployment.superuser, stdout=io.StringIO())
            with pytest.raises(CommandError, match="owns audit_auditevent"):
                call_command("db_grant_app_role", member, stdout=io.StringIO())
            with pytest.raises(CommandError, match="There is no database role"):
                call_command("db_grant_app_role", "lp_nobody_here", stdout=io.StringIO())
            with pytest.raises(CommandError, match="not a plain role name"):
                call_command("db_grant_app_role", 'app"; DROP TABLE x; --', stdout=io.StringIO())
    finally:
        with deployment.connect(deployment.superuser) as admin:
            admin.execute(f'DROP ROLE IF EXISTS "{member}"')


@pytest.mark.redis
@pytest.mark.django_db
def test_a_worker_running_as_the_app_role_exports_the_head_for_verify_to_check(deployment, tmp_path):
    from config.celery import app

    anchors = tmp_path / "audit-head.jsonl"
    _append_as_app(deployment)
    worker = CeleryWorker(
        database_url=deployment.url(deployment.app),
        log_path=tmp_path / "worker.log",
        extra_env={"AUDIT_HEAD_EXPORT_PATH": str(anchors)},
    ).start()
    try:
        app.send_task("audit.export_head")
        deadline = time.monotonic() + 60
        while not (anchors.exists() and anchors.read_text().endswith("\n")) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.stop()

    assert anchors.exists(), worker.log()
    line = json.loads(anchors.read_text())
    # the worker sealed everything before exporting: the head is the newest event's seal
    head_position, head_hash = _audit_rows(deployment)[-1][3:]
    assert (line["sequence"], line["hash"]) == (head_position, head_hash)
    out = io.StringIO()
    with django_connected_as(deployment, deployment.app):
        call_command("audit_verify", "--anchors", str(anchors), stdout=out)
    assert "1 anchors match" in out.getvalue()


@pytest.mark.django_db
def test_check_deploy_warns_when_the_app_runs_as_a_role_that_can_lift_the_triggers(deployment):
    def warnings() -> list[str]:
        messages = run_checks(include_deployment_checks=True, databases=["default"])
        return [message.msg for message in messages if message.id == "audit.W001"]

    as_superuser = warnings()
    with django_connected_as(deployment, deployment.owner):
        as_owner = warnings()
    with django_connected_as(deployment, deployment.app):
        as_app = warnings()

    assert len(as_superuser) == 1
    assert "a superuser" in as_superuser[0]
    assert as_owner == [
        f"The database role {deployment.owner!r} (owner of audit_auditevent) can disable the audit log's "
        "triggers and rewrite its history."
    ]
    assert as_app == []
    # without --database (plain `check --deploy`, `migrate`) the database is not asked
    assert not [m for m in run_checks(include_deployment_checks=True) if m.id == "audit.W001"]
