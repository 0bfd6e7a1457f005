"""Sign-ins, failures, sign-outs and every change to accounts, groups, permissions and authenticator
devices are in the audit log: exactly these events, and never a password or a code."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from escalations.staff import staff_user_create
from tests.consent.factories import UserFactory
from tests.security.conftest import PASSWORD, current_code, permission, wrong_code

pytestmark = pytest.mark.django_db


def _mark() -> int:
    last = AuditEvent.objects.order_by("-sequence").first()
    return last.sequence if last else 0


def _identity_events(since: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(sequence__gt=since, action__startswith="identity.").order_by("sequence"))


def _summary(events: list[AuditEvent]) -> list[tuple]:
    return [(event.action, event.outcome, event.actor_type, event.data) for event in events]


def _assert_no_secrets(events: list[AuditEvent], *secrets: str) -> None:
    stored = json.dumps([event.data for event in events])
    for secret in secrets:
        assert secret not in stored


def test_a_customer_signing_in_failing_and_signing_out(client):
    customer = UserFactory(username="carol")
    mark = _mark()

    wrong = client.post("/accounts/login/", {"username": "carol", "password": "not-my-password-1"})
    right = client.post("/accounts/login/", {"username": "carol", "password": PASSWORD})
    out = client.post("/accounts/logout/")

    assert (wrong.status_code, right.status_code, out.status_code) == (200, 302, 302)
    events = _identity_events(mark)
    assert _summary(events) == [
        (
            "identity.sign_in_failed",
            "failed",
            "system",
            {"username": "carol", "site": "customer", "reason": "password"},
        ),
        ("identity.signed_in", "ok", "customer", {"username": "carol", "site": "customer", "with_code": False}),
        ("identity.signed_out", "ok", "customer", {"username": "carol", "site": "customer"}),
    ]
    assert all((e.target_type, e.target_id) == ("user", str(customer.pk)) for e in events)
    assert all((e.origin_ip, e.origin_channel) == ("127.0.0.1", "web") for e in events)
    _assert_no_secrets(events, PASSWORD, "not-my-password-1")


def test_a_failed_sign_in_with_an_unknown_username_names_no_account(client):
    mark = _mark()

    client.post("/accounts/login/", {"username": "nobody-here", "password": "whatever-1"})

    (event,) = _identity_events(mark)
    assert (event.action, event.target_type, event.data["username"]) == ("identity.sign_in_failed", "", "nobody-here")


def test_a_staff_member_signing_in_with_a_wrong_then_a_right_code(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp would refuse any code for a second after a wrong one
    _, device = staff_user_create(username="sam", password=PASSWORD, support=True)
    mark = _mark()
    bad, good = wrong_code(device), current_code(device)

    client.post("/admin/login/", {"username": "sam", "password": PASSWORD, "otp_token": bad})
    client.post("/admin/login/", {"username": "sam", "password": PASSWORD, "otp_token": good})

    events = _identity_events(mark)
    assert _summary(events) == [
        ("identity.sign_in_failed", "failed", "system", {"username": "sam", "site": "admin", "reason": "code_invalid"}),
        ("identity.signed_in", "ok", "staff", {"username": "sam", "site": "admin", "with_code": True}),
    ]
    assert all(e.origin_channel == "admin" for e in events)
    # the verification saved the device (its last used step): that is not a change to audit
    assert not AuditEvent.objects.filter(sequence__gt=mark, action="identity.otp_device_changed").exists()
    _assert_no_secrets(events, PASSWORD, bad, good, device.key)


def test_changes_made_in_code_are_the_systems(db):
    mark = _mark()
    user = get_user_model().objects.create_user("dave", password=PASSWORD)
    group = Group.objects.create(name="night shift")
    user.groups.add(group)
    user.user_permissions.add(permission("audit.view_auditevent"))
    group.permissions.add(permission("escalations.view_escalation"))
    user.is_staff = True
    user.email = "dave@new.example"
    user.save()
    user.set_password("A-new-secret-pass-3")
    user.save()
    group.user_set.remove(user)
    user.user_permissions.clear()
    group.name = "late shift"
    group.save()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=False)
    device.confirmed = True
    device.save()
    device.delete()
    group.delete()
    user_pk = user.pk
    user.delete()

    events = _identity_events(mark)
    assert [(e.action, e.target_type, e.data) for e in events] == [
        (
            "identity.user_created",
            "user",
            {"username": "dave", "is_active": True, "is_staff": False, "is_superuser": False},
        ),
        ("identity.group_created", "group", {"name": "night shift"}),
        ("identity.user_groups_changed", "user", {"username": "dave", "added": ["night shift"]}),
        ("identity.user_permissions_changed", "user", {"username": "dave", "added": ["audit.view_auditevent"]}),
        (
            "identity.group_permissions_changed",
            "group",
            {"name": "night shift", "added": ["escalations.view_escalation"]},
        ),
        (
            "identity.user_changed",
            "user",
            {"username": "dave", "changed": ["email", "is_staff"], "is_staff": {"from": False, "to": True}},
        ),
        ("identity.password_changed", "user", {"username": "dave", "usable": True}),
        ("identity.user_groups_changed", "user", {"username": "dave", "removed": ["night shift"]}),
        ("identity.user_permissions_changed", "user", {"username": "dave", "removed": ["audit.view_auditevent"]}),
        ("identity.group_changed", "group", {"name": "late shift", "name_was": "night shift"}),
        ("identity.otp_device_created", "otp_device", {"user_id": user_pk, "name": "phone", "confirmed": False}),
        (
            "identity.otp_device_changed",
            "otp_device",
            {"user_id": user_pk, "name": "phone", "confirmed": True, "changed": ["confirmed"]},
        ),
        ("identity.otp_device_deleted", "otp_device", {"user_id": user_pk, "name": "phone", "confirmed": True}),
        ("identity.group_deleted", "group", {"name": "late shift"}),
        ("identity.user_deleted", "user", {"username": "dave", "was_superuser": False}),
    ]
    assert {(e.actor_type, e.actor_id) for e in events} == {("system", "")}
    _assert_no_secrets(events, PASSWORD, "A-new-secret-pass-3", user.password)


def test_changes_made_in_the_admin_are_the_staff_members(make_staff, otp_login):
    root = make_staff("root", superuser=True)
    client = otp_login(root)
    support = Group.objects.create(name="helpdesk")
    mark = _mark()

    created = client.post(
        "/admin/auth/user/add/",
        {
            "username": "erin",
            "password1": "Erins-first-pass-4",
            "password2": "Erins-first-pass-4",
            "usable_password": "true",
        },
    )
    erin = get_user_model().objects.get(username="erin")
    changed = client.post(
        f"/admin/auth/user/{erin.pk}/change/",
        {
            "username": "erin",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [support.pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert (created.status_code, changed.status_code) == (302, 302)
    events = _identity_events(mark)
    assert [(e.action, e.data) for e in events] == [
        ("identity.user_created", {"username": "erin", "is_active": True, "is_staff": False, "is_superuser": False}),
        (
            "identity.user_changed",
            {
                "username": "erin",
                "changed": ["is_staff", "is_superuser"],
                "is_staff": {"from": False, "to": True},
                "is_superuser": {"from": False, "to": True},
            },
        ),
        ("identity.user_groups_changed", {"username": "erin", "added": ["helpdesk"]}),
    ]
    assert {(e.actor_type, e.actor_id, e.origin_channel, e.origin_ip) for e in events} == {
        ("staff", str(root.pk), "admin", "127.0.0.1")
    }
    _assert_no_secrets(events, "Erins-first-pass-4")
