import csv
import io
import json

import pytest
from django.contrib.auth.models import Permission, User

from audit.models import AuditEvent, AuditSeal
from audit.services import audit_record, audit_seal
from config.tracing import trace_context

CHANGELIST = "/admin/audit/auditevent/"


@pytest.fixture
def events(db):
    with trace_context("trace-console-0001"):
        audit_record(
            action="flow.confirmed", actor_type="customer", actor_id=1, customer_id=1, target_type="flow", target_id=11
        )
        audit_record(
            action="flow.placed",
            actor_type="agent",
            customer_id=1,
            target_type="flow",
            target_id=11,
            data={"formula": '=HYPERLINK("http://evil")'},
        )
    with trace_context("trace-console-0002"):
        audit_record(action="grant.revoked", actor_type="customer", actor_id=2, customer_id=2, outcome="ok")
        audit_record(
            action="flow.failed", actor_type="system", target_type="flow", target_id=8_675_309, outcome="failed"
        )
    return list(AuditEvent.objects.order_by("sequence"))


def _staff(username: str, *permissions: str, superuser: bool = False) -> User:
    user = User.objects.create_user(username, password="irrelevant-pass-1", is_staff=True, is_superuser=superuser)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="audit", codename=codename))
    return user


def test_staff_without_the_audit_permission_cannot_see_the_console(events, otp_login):
    client = otp_login(_staff("helpdesk"))

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(f"{CHANGELIST}{events[0].pk}/change/").status_code == 403
    assert client.get(f"{CHANGELIST}trace/trace-console-0001/").status_code == 403
    assert b"Audit" not in client.get("/admin/").content


def test_staff_with_the_view_permission_browse_but_cannot_edit(events, otp_login):
    client = otp_login(_staff("auditor", "view_auditevent"))

    page = client.get(CHANGELIST)
    detail = client.get(f"{CHANGELIST}{events[0].pk}/change/")

    assert page.status_code == 200
    assert b"flow.confirmed" in page.content and b"grant.revoked" in page.content
    assert b"addlink" not in page.content
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert client.post(f"{CHANGELIST}{events[0].pk}/change/", {"action": "x.y"}).status_code == 403
    assert client.get(f"{CHANGELIST}{events[0].pk}/delete/").status_code == 403


def test_superusers_cannot_add_change_or_delete_either(events, otp_login):
    client = otp_login(_staff("root", superuser=True))
    event = events[0]

    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(f"{CHANGELIST}{event.pk}/change/", {"action": "tampered.action"}).status_code == 403
    assert client.post(f"{CHANGELIST}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    response = client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [event.pk]})
    assert AuditEvent.objects.filter(pk=event.pk, action="flow.confirmed").exists()
    assert response.status_code == 403  # an action the staff member is not offered is refused visibly


def test_filters_and_search_narrow_the_list(events, otp_login):
    client = otp_login(_staff("auditor", "view_auditevent"))

    def listed(**query) -> set[str]:
        response = client.get(CHANGELIST, query)
        assert response.status_code == 200
        return {event.action for event in response.context["cl"].result_list}

    assert listed(outcome="failed") == {"flow.failed"}
    assert listed(actor_type="agent") == {"flow.placed"}
    assert listed(action="grant.revoked") == {"grant.revoked"}
    assert listed(q="trace-console-0002") == {"grant.revoked", "flow.failed"}
    assert listed(q="8675309") == {"flow.failed"}
    # (creating and signing in the auditor wrote identity events of their own)
    since_2000 = listed(**{"occurred_at__gte": "2000-01-01T00:00:00+00:00"})
    assert {action for action in since_2000 if not action.startswith("identity.")} == {e.action for e in events}
    assert listed(**{"occurred_at__lt": "2000-01-01T00:00:00+00:00"}) == set()


def test_a_pasted_page_in_the_search_box_is_answered_with_a_message_not_a_500(events, otp_login):
    client = otp_login(_staff("auditor", "view_auditevent"))

    response = client.get(CHANGELIST, {"q": " ".join(["flow"] * 1000)})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    (shown,) = [str(message) for message in response.context["messages"]]
    assert shown.startswith("Nothing was searched: a search is at most 10 words and 200 characters")
    # what fits is searched as before
    assert {event.action for event in client.get(CHANGELIST, {"q": "8675309"}).context["cl"].result_list} == {
        "flow.failed"
    }


def test_the_trace_timeline_shows_one_trace_in_order(events, otp_login):
    client = otp_login(_staff("auditor", "view_auditevent"))

    page = client.get(f"{CHANGELIST}trace/trace-console-0001/").content.decode()

    assert page.index("flow.confirmed") < page.index("flow.placed")
    assert "grant.revoked" not in page


def _export(client, action: str, pks: list[int]):
    return client.post(CHANGELIST, {"action": action, "_selected_action": pks})


def test_export_as_json_lines_and_csv_is_audited(events, otp_login):
    client = otp_login(_staff("exporter", "view_auditevent", "export_auditevent"))
    pks = [event.pk for event in events]

    jsonl = _export(client, "export_jsonl", pks)
    rows = [json.loads(line) for line in b"".join(jsonl.streaming_content).decode().splitlines()]
    as_csv = _export(client, "export_csv", pks)
    table = list(csv.DictReader(io.StringIO(b"".join(as_csv.streaming_content).decode())))

    assert [row["sequence"] for row in rows] == [event.sequence for event in events]
    assert [row["chain_position"] for row in rows] == [None] * 4  # not sealed yet
    assert rows[1]["data"]["formula"].startswith("=HYPERLINK")
    assert [row["action"] for row in table] == ["flow.confirmed", "flow.placed", "grant.revoked", "flow.failed"]
    # a formula in the data cannot run in a spreadsheet: the cell is JSON, and JSON starts with "{"
    assert table[1]["data"].startswith("{")
    exports = AuditEvent.objects.filter(action="audit.exported").order_by("sequence")
    assert [event.data["format"] for event in exports] == ["jsonl", "csv"]
    assert exports[0].actor_type == "staff" and exports[0].data["count"] == 4


def test_staff_without_the_export_permission_cannot_export(events, otp_login):
    client = otp_login(_staff("auditor", "view_auditevent"))

    response = _export(client, "export_jsonl", [events[0].pk])

    assert not hasattr(response, "streaming_content")
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_the_console_shows_unsealed_events_as_pending_and_sealed_ones_with_their_place(events, otp_login):
    client = otp_login(_staff("auditor", "view_auditevent"))

    pending = client.get(CHANGELIST).content.decode()
    pending_detail = client.get(f"{CHANGELIST}{events[0].pk}/change/").content.decode()
    audit_seal()
    sealed = client.get(CHANGELIST).content.decode()
    first_seal = AuditSeal.objects.get(event=events[0])
    sealed_detail = client.get(f"{CHANGELIST}{events[0].pk}/change/").content.decode()

    # every event is pending until sealed, the sign-in's own events included
    assert pending.count(">pending<") == AuditEvent.objects.count() >= 4
    assert "pending (not sealed yet)" in pending_detail
    assert ">pending<" not in sealed
    assert ">#1<" in sealed and ">#4<" in sealed
    assert first_seal.hash in sealed_detail


def test_an_export_of_sealed_events_carries_their_chain_position_and_hash(events, otp_login):
    audit_seal()
    client = otp_login(_staff("exporter", "view_auditevent", "export_auditevent"))

    jsonl = _export(client, "export_jsonl", [event.pk for event in events])
    rows = [json.loads(line) for line in b"".join(jsonl.streaming_content).decode().splitlines()]

    seals = {seal.event_id: seal for seal in AuditSeal.objects.all()}
    assert [(row["chain_position"], row["hash"]) for row in rows] == [
        (seals[event.pk].position, seals[event.pk].hash) for event in events
    ]
    assert rows[1]["previous_hash"] == rows[0]["hash"]
