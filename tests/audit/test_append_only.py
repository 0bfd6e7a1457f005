"""The database itself refuses to change or remove audit events, on PostgreSQL and on SQLite."""

import json
import sys

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent, AuditSeal
from audit.services import audit_record, audit_seal
from tests.support import zygote
from tests.support.services import PROJECT_DIR, child_env

STATEMENTS = {
    "update": "UPDATE audit_auditevent SET outcome = 'denied'",
    "delete": "DELETE FROM audit_auditevent WHERE sequence = (SELECT MIN(sequence) FROM audit_auditevent)",
    # CASCADE empties the seals too, so no foreign key stands in the way: the triggers alone refuse it.
    "truncate": "TRUNCATE audit_auditevent CASCADE",
}
SEAL_STATEMENTS = {
    "update": "UPDATE audit_auditseal SET hash = repeat('0', 64)",
    "update position": "UPDATE audit_auditseal SET position = 7",
    "delete": "DELETE FROM audit_auditseal WHERE position = 1",  # the first seal of a fresh chain
    "truncate": "TRUNCATE audit_auditseal",
}


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("operation", ["update", "delete", "truncate"])
def test_postgresql_refuses_raw_update_delete_and_truncate(operation):
    audit_record(action="test.event", actor_type="system")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(STATEMENTS[operation])

    assert AuditEvent.objects.filter(outcome="ok").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("operation", list(SEAL_STATEMENTS))
def test_postgresql_refuses_to_change_or_remove_a_seal(operation):
    audit_record(action="test.event", actor_type="system")
    audit_seal()
    before = list(AuditSeal.objects.values_list("position", "hash"))
    with connection.cursor() as cursor:
        # the seal's foreign key is checked at commit; check it now, so TRUNCATE meets only the triggers
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SEAL_STATEMENTS[operation])

    assert list(AuditSeal.objects.values_list("position", "hash")) == before


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
# the audit app's migrations alone (it depends on no other app): they install the triggers under test, and the
# whole project's migrations on SQLite took 2.7 s of CPU more
call_command("migrate", "audit", verbosity=0)
from audit.services import audit_record, audit_seal
from audit.selectors import audit_chain_verify
audit_record(action="test.event", actor_type="system")
audit_record(action="test.event", actor_type="system")
results = {"sealed": audit_seal()}
audit_record(action="test.event", actor_type="system")
results["sealed later"] = audit_seal()
report = audit_chain_verify()
results["chain"] = [report.intact, report.count]
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
    cursor.execute("SELECT count(*), min(position) FROM audit_auditseal")
    results["seals"] = list(cursor.fetchone())
print(json.dumps(results))
"""


def test_sqlite_appends_seals_and_refuses_raw_update_delete_and_its_truncate(tmp_path):
    # SQLite has no TRUNCATE statement: an unqualified DELETE is its truncate, and it is refused too.
    statements = {
        "update": STATEMENTS["update"],
        "delete": STATEMENTS["delete"],
        "truncate (DELETE FROM without WHERE)": "DELETE FROM audit_auditevent",
        "seal update": SEAL_STATEMENTS["update"],
        "seal delete": SEAL_STATEMENTS["delete"],
        "seal truncate": "DELETE FROM audit_auditseal",
    }
    result = zygote.run(
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
    assert outcome["rows"] == [3, "ok"]
    # appending and sealing work on SQLite too, and the chain verifies
    assert (outcome["sealed"], outcome["sealed later"], outcome["chain"]) == (2, 1, [True, 3])
    assert outcome["seals"] == [3, 1]


def test_flush_is_refused_outside_test_settings(tmp_path):
    result = zygote.run(
        [sys.executable, "manage.py", "flush", "--no-input"],
        cwd=PROJECT_DIR,
        env=child_env(DJANGO_SETTINGS_MODULE="config.settings.dev", DATABASE_URL=None, VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "append-only audit log" in result.stderr
