"""The customer is e-mailed when an authenticator, a card or an address is added to their account: after the
change commits, by a Celery task, once, with no secret and no more of a card than its last four digits."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import transaction
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from consent import tasks
from consent.demo import consent_demo_seed
from consent.models import SecurityNotice
from consent.services.stepup import stepup_enrol_begin, stepup_enrol_confirm
from consent.services.wallet import address_add
from tests.consent.factories import address

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("eager_tasks")]

HOME = {
    "label": "Lake house",
    "recipient": "Alice Example",
    "line1": "9 Shore Road",
    "city": "Tahoe City",
    "region": "CA",
    "postal_code": "96145",
    "country": "US",
}


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_a_new_card_is_announced_by_email_in_plain_words(alice_api, alice, vault, django_capture_on_commit_callbacks):
    vault.link(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.post(
            "/api/v1/consent/payment-methods/", {"vault_reference": "pm_alice_visa"}, format="json"
        )

    assert response.status_code == 201
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["alice@example.com"]
    assert email.subject == "A new card was added to your account"
    assert email.body.startswith("A new card ending 4242 (Visa) was added to your account.")
    assert "If this wasn't you, sign in at http://localhost:8000/settings/ now, remove the card" in email.body
    # no reference, no card number, no secret of any kind
    assert "pm_alice_visa" not in email.body and not re.search(r"\d{5,}", email.body)
    assert SecurityNotice.objects.get().sent_at is not None


def test_a_new_address_is_announced_by_email(alice_api, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert alice_api.post("/api/v1/consent/addresses/", HOME, format="json").status_code == 201

    assert [email.subject for email in mail.outbox] == ["A new shipping address was added to your account"]
    assert "A new shipping address “Lake house” (Tahoe City, US) was added to your account." in mail.outbox[0].body


def test_setting_up_an_authenticator_is_announced_without_its_secret(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        device = stepup_enrol_begin(user_id=alice.pk)
    assert mail.outbox == []  # starting is not setting up

    with django_capture_on_commit_callbacks(execute=True):
        stepup_enrol_confirm(user_id=alice.pk, code=_code(device))

    assert [email.subject for email in mail.outbox] == ["An authenticator app was set up for your account"]
    body = mail.outbox[0].body
    assert device.key not in body.lower() and "otpauth" not in body and "secret" not in body.lower()


def test_no_email_when_the_change_rolled_back(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        address_add(user_id=alice.pk, **HOME)
        raise RuntimeError("the caller failed after adding it")

    assert mail.outbox == []
    assert not SecurityNotice.objects.exists()


def test_the_task_delivered_twice_sends_one_email(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        address(alice)
    notice = SecurityNotice.objects.get()

    assert tasks.security_notice_send.delay(notice.pk).get() == "already_sent"
    assert len(mail.outbox) == 1


def test_a_notice_whose_task_was_lost_is_sent_by_the_sweep(alice):
    address(alice)  # no commit callbacks run here: as if the process died between commit and enqueue
    notice = SecurityNotice.objects.get()
    assert mail.outbox == [] and notice.sent_at is None

    assert tasks.security_notices_send_pending.delay().get() == []  # younger than the sweep's quiet time
    SecurityNotice.objects.filter(pk=notice.pk).update(created_at=notice.created_at.replace(year=2020))
    assert tasks.security_notices_send_pending.delay().get() == [notice.pk]

    assert len(mail.outbox) == 1


def test_the_demo_seed_sends_no_email(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        consent_demo_seed()

    assert mail.outbox == []
    assert not SecurityNotice.objects.exists()
