"""The settings page's forms sent twice at once (a double click, two tabs), on real PostgreSQL with threads."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from consent.models import ConsentProfile
from consent.services.profile import consent_profile_ensure
from tests.consent.factories import address, card


def _waiting_for_a_lock(count: int) -> bool:
    deadline = timezone.now() + timedelta(seconds=10)
    while timezone.now() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return True
    return False


def _two_clicks_queued_on_the_customer(alice, path: str, data: dict | None = None) -> list:
    """The same form posted by two clients at once while the customer's row is locked, so that both queue on it;
    then the lock is released. The two answers (followed), once both queued."""
    locked, release, answers = threading.Event(), threading.Event(), []

    def hold_the_customer() -> None:
        try:
            with transaction.atomic():
                ConsentProfile.objects.select_for_update().get(user_id=alice.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    def click() -> None:
        client = Client(raise_request_exception=False)
        client.force_login(alice)
        try:
            answers.append(client.post(path, data or {}, follow=True))
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_customer)
    holder.start()
    assert locked.wait(10)
    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    both_waited = _waiting_for_a_lock(2)
    release.set()
    holder.join(15)
    for thread in clicks:
        thread.join(15)

    assert both_waited, "the two clicks never queued on the customer's lock"
    return answers


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["card", "address"])
def test_remove_clicked_twice_at_once_removes_once_and_answers_both(alice, kind):
    # Both requests read the card as saved, then queue on the customer's row lock; the second found it
    # removed under the lock and raised DoesNotExist: a 500 for a card the customer did remove.
    row = card(alice, "pm_alice_visa", "4242") if kind == "card" else address(alice, "Home")
    base = "/settings/payment-methods" if kind == "card" else "/settings/addresses"
    consent_profile_ensure(user_id=alice.pk)
    answers = _two_clicks_queued_on_the_customer(alice, f"{base}/{row.pk}/remove/")
    assert sorted(answer.status_code for answer in answers) == [200, 200]
    said = " ".join(answer.content.decode() for answer in answers)
    assert "removed." in said and "already removed." in said
    removed = AuditEvent.objects.filter(customer_id=alice.pk, action__endswith="_removed")
    assert removed.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_address_sent_twice_at_once_is_saved_once(alice):
    consent_profile_ensure(user_id=alice.pk)
    home = {
        "label": "Home",
        "recipient": "Alice",
        "line1": "1 Main St",
        "city": "Springfield",
        "postal_code": "62701",
        "country": "US",
    }
    answers = _two_clicks_queued_on_the_customer(alice, "/settings/addresses/", home)
    assert [answer.status_code for answer in answers] == [200, 200]
    assert alice.saved_addresses.count() == 1
    assert AuditEvent.objects.filter(customer_id=alice.pk, action="consent.address_added").count() == 1
