"""Each change of what the assistant may do writes one audit event about the customer."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from audit.selectors import audit_events_for_customer
from consent.services.grants import auto_checkout_set, consent_revoke, spend_caps_set
from consent.services.ledger import spend_commit, spend_release, spend_reserve
from consent.services.stepup import stepup_enrol_begin, stepup_enrol_confirm
from consent.services.wallet import (
    address_remove,
    address_set_default,
    payment_method_remove,
    payment_method_set_default,
)
from tests.consent.factories import address, card, grant
from tests.consent.test_stepup import code_for


def actions(user) -> list[str]:
    return list(audit_events_for_customer(customer_id=user.pk).values_list("action", flat=True))


def test_every_change_writes_an_audit_event_newest_first(alice, bob):
    granted = grant(alice, expires_at=timezone.now() + timedelta(days=30))
    consent_revoke(user_id=alice.pk, grant_id=granted.pk, via="api")
    spend_caps_set(user_id=alice.pk, caps={"per_day": 10_000})
    auto_checkout_set(user_id=alice.pk, threshold=1_000)
    first = card(alice, "pm_one", "1111")
    second = card(alice, "pm_two", "2222")
    payment_method_set_default(user_id=alice.pk, payment_method_id=second.pk)
    payment_method_remove(user_id=alice.pk, payment_method_id=first.pk)
    home = address(alice, "Home")
    work = address(alice, "Work")
    address_set_default(user_id=alice.pk, address_id=work.pk)
    address_remove(user_id=alice.pk, address_id=home.pk)
    stepup_enrol_begin(user_id=alice.pk)
    stepup_enrol_confirm(user_id=alice.pk, code=code_for(TOTPDevice.objects.get(user=alice)))
    spend_reserve(user_id=alice.pk, amount=500, currency="USD", flow_reference="flow-1")
    spend_commit(flow_reference="flow-1")
    spend_reserve(user_id=alice.pk, amount=500, currency="USD", flow_reference="flow-2")
    spend_release(flow_reference="flow-2")

    assert actions(alice) == [
        "spend.released",
        "spend.reserved",
        "spend.committed",
        "spend.reserved",
        "consent.stepup_enrolled",
        "consent.stepup_enrolment_started",
        "consent.address_removed",
        "consent.address_default_changed",
        "consent.address_added",
        "consent.address_added",
        "consent.payment_method_removed",
        "consent.payment_method_default_changed",
        "consent.payment_method_added",
        "consent.payment_method_added",
        "consent.auto_checkout_changed",
        "consent.caps_changed",
        "consent.grant_revoked",
        "consent.grant_created",
    ]
    assert actions(bob) == []
    caps = AuditEvent.objects.get(action="consent.caps_changed")
    assert caps.data == {"before": {"per_day": None}, "after": {"per_day": 10_000}}
    assert caps.actor_type == "customer" and caps.actor_id == str(alice.pk)


def test_a_change_that_changes_nothing_writes_nothing(alice):
    spend_caps_set(user_id=alice.pk, caps={"per_day": 10_000})
    auto_checkout_set(user_id=alice.pk, threshold=0)

    spend_caps_set(user_id=alice.pk, caps={"per_day": 10_000})

    assert actions(alice) == ["consent.caps_changed"]
