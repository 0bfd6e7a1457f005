"""The support group works the queue and reads the audit log; it cannot create accounts or hand out powers."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from escalations.staff import SUPPORT_PERMISSIONS, staff_user_create, support_group_ensure
from tests.consent.factories import UserFactory
from tests.security.conftest import PASSWORD, permission

pytestmark = pytest.mark.django_db

ACCOUNT_POWERS = [
    "auth.add_user",
    "auth.change_user",
    "auth.delete_user",
    "auth.add_group",
    "auth.change_group",
    "auth.add_permission",
    "auth.change_permission",
    "otp_totp.add_totpdevice",
    "otp_totp.change_totpdevice",
]


def _granted(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_the_support_group_holds_exactly_its_permissions_even_after_someone_added_more():
    group = support_group_ensure()
    # someone gave the group account powers by hand
    group.permissions.add(*[permission(dotted) for dotted in ACCOUNT_POWERS])

    support_group_ensure()

    assert _granted(group) == {f"{app}.{codename}" for app, codename in SUPPORT_PERMISSIONS}


def test_a_support_member_cannot_create_users_or_give_themselves_powers(otp_login):
    support, _ = staff_user_create(username="sue", password=PASSWORD, support=True)
    # even with permission to look at accounts
    support.user_permissions.add(permission("auth.view_user"))
    client = otp_login(support)
    own_page = f"/admin/auth/user/{support.pk}/change/"

    add = client.post(
        "/admin/auth/user/add/",
        {
            "username": "mallory",
            "password1": "Another-pass-77",
            "password2": "Another-pass-77",
            "usable_password": "true",
        },
    )
    escalate = client.post(
        own_page,
        {
            "username": "sue",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [support_group_ensure().pk],
            "user_permissions": [permission("auth.add_user").pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    new_group = client.post(
        "/admin/auth/group/add/", {"name": "admins", "permissions": [permission("auth.add_user").pk]}
    )

    assert add.status_code == 403
    assert escalate.status_code == 403
    assert new_group.status_code == 403
    support.refresh_from_db()
    assert not support.is_superuser
    assert not support.user_permissions.filter(codename="add_user").exists()
    assert not get_user_model().objects.filter(username="mallory").exists()
    assert not Group.objects.filter(name="admins").exists()


def test_staff_who_may_change_users_still_cannot_change_powers_or_staff_accounts(make_staff, otp_login):
    # a helpdesk lead who fixes customers' e-mail addresses
    lead = make_staff("lead", "auth.view_user", "auth.change_user")
    colleague = make_staff("colleague")
    customer = UserFactory(username="carol")
    client = otp_login(lead)

    own = client.post(
        f"/admin/auth/user/{lead.pk}/change/",
        {
            "username": "lead",
            "email": "lead@staff.example",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "user_permissions": [permission("auth.add_user").pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    colleague_password = client.post(
        f"/admin/auth/user/{colleague.pk}/password/",
        {"password1": "Taken-over-pass-1", "password2": "Taken-over-pass-1", "usable_password": "true"},
    )
    customer_email = client.post(
        f"/admin/auth/user/{customer.pk}/change/",
        {
            "username": "carol",
            "email": "carol@new.example",
            "is_active": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert own.status_code == 403  # a staff account: superusers only
    assert colleague_password.status_code == 403
    assert customer_email.status_code == 302  # saved, but the power fields are read-only
    lead.refresh_from_db()
    customer.refresh_from_db()
    colleague.refresh_from_db()
    assert not lead.is_superuser and not lead.user_permissions.filter(codename="add_user").exists()
    assert colleague.check_password(PASSWORD)
    assert customer.email == "carol@new.example"
    assert not customer.is_superuser and not customer.is_staff


def test_staff_who_may_change_groups_still_cannot_edit_them(make_staff, otp_login):
    group = support_group_ensure()
    client = otp_login(make_staff("lead", "auth.view_group", "auth.change_group", "auth.add_group"))

    response = client.post(
        f"/admin/auth/group/{group.pk}/change/", {"name": group.name, "permissions": [permission("auth.add_user").pk]}
    )

    assert response.status_code == 403
    assert "auth.add_user" not in _granted(group)


def test_a_superuser_still_manages_accounts(make_staff, otp_login):
    customer = UserFactory(username="carol")
    client = otp_login(make_staff("root", superuser=True))

    response = client.post(
        f"/admin/auth/user/{customer.pk}/change/",
        {
            "username": "carol",
            "email": "carol@example.com",
            "is_active": "on",
            "is_staff": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.is_staff
