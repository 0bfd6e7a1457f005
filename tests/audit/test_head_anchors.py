"""The chain head exported out of the app's reach, and `audit_verify --anchors` checking the chain against it.

The chain alone proves the rows link up; it cannot tell a history that someone with DDL rights
rewrote and re-hashed from beginning to end, nor one whose newest rows were cut off. The exported
heads can.
"""

from __future__ import annotations

import importlib
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit import triggers
from audit.models import AuditEvent, AuditSeal
from audit.selectors import audit_anchors_read, audit_anchors_verify, audit_chain_verify
from audit.services import GENESIS_HASH, AuditExportError, audit_head_export, audit_record, audit_seal, seal_hash


def _record(n: int) -> list[AuditEvent]:
    return [audit_record(action="test.event", actor_type="system", data={"n": i}) for i in range(n)]


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _rechain(*, from_sequence: int, data: dict) -> None:
    """What someone who can lift the triggers does to hide a change: rewrite a row and re-hash every seal after it."""
    triggers.uninstall(connection)
    previous = AuditSeal.objects.get(position=from_sequence - 1).hash if from_sequence > 1 else GENESIS_HASH
    with connection.cursor() as cursor:
        for seal in AuditSeal.objects.filter(position__gte=from_sequence).select_related("event").order_by("position"):
            event = seal.event
            if seal.position == from_sequence:
                event.data = data
                cursor.execute("UPDATE audit_auditevent SET data = %s WHERE id = %s", [json.dumps(data), event.pk])
            digest = seal_hash(event, position=seal.position, previous_hash=previous)
            cursor.execute(
                "UPDATE audit_auditseal SET previous_hash = %s, hash = %s WHERE position = %s",
                [previous, digest, seal.position],
            )
            previous = digest
    triggers.install(connection)


def _remove_positions(where: str) -> None:
    """Remove chain positions and their events, as the owner role can (and as archiving does)."""
    triggers.uninstall(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM audit_auditevent WHERE id IN (SELECT event_id FROM audit_auditseal WHERE position {where})"
        )
        cursor.execute(f"DELETE FROM audit_auditseal WHERE position {where}")
    triggers.install(connection)


def _verify(*args: str) -> str:
    out = io.StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_export_appends_the_head_and_never_rewrites_earlier_lines(tmp_path):
    anchors = tmp_path / "audit-head.jsonl"
    anchors.write_text('{"sequence": 1, "hash": "' + "a" * 64 + '", "at": "earlier deployment"}\n')
    before = anchors.read_bytes()
    events = _record(3)

    first = audit_head_export(path=anchors)
    events += _record(2)
    call_command("audit_export_head", "--path", str(anchors), stdout=io.StringIO())

    content = anchors.read_bytes()
    assert content.startswith(before)
    lines = _lines(anchors)
    assert len(lines) == 3
    # the export sealed the events first: the head is the last of them, at its chain position
    seals = {seal.event_id: seal for seal in AuditSeal.objects.all()}
    assert lines[1] == {"sequence": 3, "hash": seals[events[2].pk].hash, "at": first.at}
    assert (lines[2]["sequence"], lines[2]["hash"]) == (5, seals[events[4].pk].hash)
    assert lines[2]["at"] >= lines[1]["at"]


@pytest.mark.django_db
def test_export_uses_the_configured_path_and_says_when_there_is_none(tmp_path, settings):
    settings.AUDIT_HEAD_EXPORT_PATH = str(tmp_path / "configured.jsonl")
    assert audit_head_export() is None  # an empty log has no head: nothing is written
    assert not (tmp_path / "configured.jsonl").exists()
    _record(1)

    call_command("audit_export_head", stdout=io.StringIO())
    settings.AUDIT_HEAD_EXPORT_PATH = ""

    assert [line["sequence"] for line in _lines(tmp_path / "configured.jsonl")] == [1]
    with pytest.raises(AuditExportError, match="AUDIT_HEAD_EXPORT_PATH"):
        audit_head_export()
    with pytest.raises(CommandError, match="AUDIT_HEAD_EXPORT_PATH"):
        call_command("audit_export_head", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Cannot append the audit head"):
        call_command("audit_export_head", "--path", str(tmp_path / "no-such-dir" / "x.jsonl"), stdout=io.StringIO())


@pytest.mark.django_db
def test_verify_against_the_anchors_passes_on_an_untouched_chain(tmp_path):
    anchors = tmp_path / "audit-head.jsonl"
    _record(4)
    audit_head_export(path=anchors)
    audit_head_export(path=anchors)  # an unchanged head is anchored twice: both lines must match
    _record(3)
    audit_head_export(path=anchors)
    _record(2)  # events after the last anchor are covered by the chain check alone

    assert _verify("--anchors", str(anchors)) == "audit chain intact: 9 events verified; 3 anchors match\n"


@pytest.mark.django_db
def test_a_rechained_history_passes_the_chain_check_but_not_the_anchors(tmp_path):
    anchors = tmp_path / "audit-head.jsonl"
    _record(3)
    audit_head_export(path=anchors)
    _record(3)
    audit_head_export(path=anchors)
    _record(2)

    audit_seal()
    _rechain(from_sequence=5, data={"n": "forged"})

    # The forgery is consistent: every link and every hash checks out...
    assert _verify() == "audit chain intact: 8 events verified\n"
    assert AuditSeal.objects.get(position=5).event.data == {"n": "forged"}
    # ...but the head exported at sequence 6 is no longer in the chain; the one at 3 still is.
    with pytest.raises(CommandError) as broken:
        _verify("--anchors", str(anchors))
    message = str(broken.value)
    assert "does NOT match anchor" in message
    assert "line 2 (sequence 6" in message
    assert "history up to sequence 6 was rewritten" in message
    assert "(1 anchors before it matched)" in message


@pytest.mark.django_db
def test_a_chain_cut_short_before_the_last_anchor_is_detected(tmp_path):
    anchors = tmp_path / "audit-head.jsonl"
    _record(5)
    audit_head_export(path=anchors)
    _remove_positions("> 3")

    # Removing the newest rows leaves a valid, shorter chain...
    assert _verify() == "audit chain intact: 3 events verified\n"
    # ...whose head is older than the last exported one.
    with pytest.raises(
        CommandError, match=r"line 1 \(sequence 5.*the chain ends at sequence 3.*events 4\.\.5 were removed"
    ):
        _verify("--anchors", str(anchors))


@pytest.mark.django_db
def test_a_cut_tail_written_again_is_detected_too(tmp_path):
    anchors = tmp_path / "audit-head.jsonl"
    _record(5)
    audit_head_export(path=anchors)
    _remove_positions("> 3")
    audit_record(action="test.replacement", actor_type="system")
    audit_record(action="test.replacement", actor_type="system")
    audit_seal()  # the replacements take positions 4 and 5

    report = audit_anchors_verify(anchors=audit_anchors_read(path=anchors))

    assert audit_chain_verify().intact
    assert (report.intact, report.broken_line, report.broken_anchor.sequence) == (False, 1, 5)
    assert "was rewritten" in report.reason


@pytest.mark.django_db
def test_anchors_inside_an_archived_range_are_skipped(tmp_path):
    anchors = tmp_path / "audit-head.jsonl"
    events = _record(3)
    audit_head_export(path=anchors)
    events += _record(3)
    audit_head_export(path=anchors)
    archived_head = AuditSeal.objects.get(position=3).hash
    _remove_positions("<= 3")

    output = _verify("--after-sequence", "3", "--after-hash", archived_head, "--anchors", str(anchors))

    assert output == "audit chain intact: 3 events verified; 1 anchors match, 1 in the archive skipped\n"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "line 1 is not an anchor"),
        ('{"sequence": 1, "hash": "' + "a" * 64 + '"}\n{"sequence": 2}\n', "line 2 is not an anchor"),
        ('{"sequence": 0, "hash": "' + "a" * 64 + '", "at": ""}\n', "line 1 has no valid sequence"),
        ('{"sequence": 1, "hash": "short", "at": ""}\n', "line 1 has no valid sequence"),
    ],
)
def test_a_malformed_anchor_file_is_refused_with_its_line(tmp_path, content, message):
    _record(1)
    anchors = tmp_path / "audit-head.jsonl"
    anchors.write_text(content)

    with pytest.raises(CommandError, match=message):
        _verify("--anchors", str(anchors))


@pytest.mark.django_db
def test_a_missing_anchor_file_is_an_error_not_a_pass(tmp_path):
    _record(1)

    with pytest.raises(CommandError, match="Cannot read the anchor file"):
        _verify("--anchors", str(tmp_path / "missing.jsonl"))


def test_beat_exports_the_head_only_when_a_destination_is_configured(monkeypatch):
    import config.settings.audit as audit_settings

    monkeypatch.setenv("AUDIT_HEAD_EXPORT_PATH", "/var/log/audit-head.jsonl")
    monkeypatch.setenv("AUDIT_HEAD_EXPORT_EVERY_SECONDS", "120")
    configured = importlib.reload(audit_settings).AUDIT_BEAT_SCHEDULE
    monkeypatch.delenv("AUDIT_HEAD_EXPORT_PATH")
    unconfigured = importlib.reload(audit_settings).AUDIT_BEAT_SCHEDULE

    seal = {"audit-seal": {"task": "audit.seal", "schedule": 10.0}}
    assert configured == {**seal, "audit-export-head": {"task": "audit.export_head", "schedule": 120.0}}
    assert unconfigured == seal
