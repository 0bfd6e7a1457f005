"""The database itself refuses to change or remove audit events, on PostgreSQL and on SQLite."""

import json
import subprocess
import sys

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from audit.services import audit_record
from tests.support.services import PROJECT_DIR, child_env

STATEMENTS = {
    "update": "UPDATE audit_auditevent SET outcome = 'denied'",
    "delete": "DELETE FROM audit_auditevent WHERE sequence = 1",
    "truncate": "TRUNCATE audit_auditevent",
}


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("operation", ["update", "delete", "truncate"])
def test_postgresql_refuses_raw_update_delete_and_truncate(operation):
    audit_record(action="test.event", actor_type="system")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(STATEMENTS[operation])

    assert AuditEvent.objects.filter(outcome="ok").count() == 1


@pytest.mark.django_db
def test_the_orm_cannot_change_or_delete_an_event_either():
    event = audit_record(action="test.event", actor_type="system")

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(outcome="failed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()

    assert AuditEvent.objects.get(pk=event.pk).outcome == "ok"


_SQLITE_SCRIPT = """
import django, json
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
from audit.services import audit_record
audit_record(action="test.event", actor_type="system")
results = {}
for name, sql in json.loads(STATEMENTS).items():
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
        results[name] = "allowed"
    except Exception as error:
        results[name] = str(error)
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*), min(outcome) FROM audit_auditevent")
    results["rows"] = list(cursor.fetchone())
print(json.dumps(results))
"""


def test_sqlite_refuses_raw_update_delete_and_its_truncate(tmp_path):
    # SQLite has no TRUNCATE statement: an unqualified DELETE is its truncate, and it is refused too.
    statements = {
        "update": STATEMENTS["update"],
        "delete": STATEMENTS["delete"],
        "truncate (DELETE FROM without WHERE)": "DELETE FROM audit_auditevent",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"STATEMENTS = {json.dumps(json.dumps(statements))}\n" + _SQLITE_SCRIPT],
        cwd=PROJECT_DIR,
        env=child_env(
            DJANGO_SETTINGS_MODULE="config.settings.test",
            DATABASE_URL=f"sqlite:///{tmp_path}/audit.sqlite3",
            VAR_DIR=str(tmp_path),
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    for name in statements:
        assert "append-only" in outcome[name], f"{name} was not refused: {outcome[name]}"
    assert outcome["rows"] == [1, "ok"]


def test_flush_is_refused_outside_test_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "flush", "--no-input"],
        cwd=PROJECT_DIR,
        env=child_env(DJANGO_SETTINGS_MODULE="config.settings.dev", DATABASE_URL=None, VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "append-only audit log" in result.stderr
