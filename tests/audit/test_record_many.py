"""audit_record_many: several events in one statement, in order, redacted and checked like audit_record."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import REDACTED, audit_record_many, audit_seal


def _events(count: int) -> list[dict]:
    return [
        {
            "action": "agent.tool_called",
            "actor_type": "agent",
            "customer_id": 7,
            "target_type": "conversation",
            "target_id": "c-1",
            "data": {"name": f"tool_{index}", "card_number": "4242424242424242"},
        }
        for index in range(count)
    ]


@pytest.mark.django_db(transaction=True)
def test_several_events_are_appended_in_order_in_one_insert_and_the_chain_verifies(settings):
    settings.AUDIT_SEAL_ON_COMMIT = False
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        events = audit_record_many(_events(3))

    inserts = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("INSERT")]
    if connection.vendor == "postgresql":
        assert len(inserts) == 1
    stored = list(AuditEvent.objects.filter(pk__in=[event.pk for event in events]).order_by("sequence"))
    assert [event.data["name"] for event in stored] == ["tool_0", "tool_1", "tool_2"]
    assert [event.pk for event in stored] == [event.pk for event in events]
    assert all(event.data["card_number"] == REDACTED for event in stored)
    assert audit_seal() >= 3
    assert audit_chain_verify().intact


@pytest.mark.django_db(transaction=True)
def test_an_invalid_event_writes_none_of_them():
    events = [*_events(2), {"action": "Not A Name", "actor_type": "agent"}]

    with pytest.raises(ValueError):
        audit_record_many(events)

    assert not AuditEvent.objects.filter(action="agent.tool_called", target_id="c-1").exists()


@pytest.mark.django_db(transaction=True)
def test_events_roll_back_with_the_callers_transaction():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record_many(_events(2))
        raise RuntimeError("the change they describe failed")

    assert not AuditEvent.objects.filter(target_id="c-1").exists()
