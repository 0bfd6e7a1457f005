"""Every admin action and custom admin view checks a permission; looking is not acting."""

from __future__ import annotations

import pytest
from django.contrib import admin

from audit.models import AuditEvent
from consent.models import ConsentGrant, GrantStatus
from tests.consent.factories import UserFactory, grant

pytestmark = pytest.mark.django_db

GRANTS = "/admin/consent/consentgrant/"


def test_every_admin_action_names_the_permission_it_needs():
    # Django offers, and runs, an action without `permissions` to anyone who may see the list.
    unguarded = []
    for model, model_admin in admin.site._registry.items():
        for function, name, _ in model_admin._get_base_actions():
            if not getattr(function, "allowed_permissions", ()):
                unguarded.append(f"{model._meta.label}.{name}")

    assert unguarded == []


def test_staff_who_may_only_view_grants_cannot_revoke_one(make_staff, otp_login):
    customer = UserFactory(username="carol")
    active = grant(customer)
    client = otp_login(make_staff("viewer", "consent.view_consentgrant"))

    page = client.get(GRANTS)
    response = client.post(GRANTS, {"action": "revoke_selected", "_selected_action": [active.pk]})

    assert page.status_code == 200
    assert b"revoke_selected" not in page.content  # not offered
    assert response.status_code == 403
    assert ConsentGrant.objects.get(pk=active.pk).status == GrantStatus.ACTIVE
    assert not AuditEvent.objects.filter(action="consent.grant_revoked").exists()


def test_staff_who_may_change_grants_revoke_one_and_it_is_audited_as_theirs(make_staff, otp_login):
    customer = UserFactory(username="carol")
    active = grant(customer)
    agent = make_staff("changer", "consent.view_consentgrant", "consent.change_consentgrant")
    client = otp_login(agent)

    page = client.get(GRANTS)
    response = client.post(GRANTS, {"action": "revoke_selected", "_selected_action": [active.pk]}, follow=True)

    assert b"revoke_selected" in page.content
    assert "Revoked 1 grant(s)." in [str(message) for message in response.context["messages"]]
    assert ConsentGrant.objects.get(pk=active.pk).status == GrantStatus.REVOKED
    event = AuditEvent.objects.get(action="consent.grant_revoked")
    assert (event.actor_type, event.actor_id) == ("staff", str(agent.pk))


def test_staff_who_may_only_view_the_audit_log_cannot_export_it(make_staff, otp_login):
    client = otp_login(make_staff("auditor", "audit.view_auditevent"))
    event = AuditEvent.objects.order_by("-sequence").first()

    response = client.post("/admin/audit/auditevent/", {"action": "export_csv", "_selected_action": [event.pk]})

    assert response.status_code == 403
    assert response.get("Content-Disposition") is None  # no file
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_a_staff_member_with_view_permission_cannot_open_a_users_change_form_for_writing(make_staff, otp_login):
    customer = UserFactory(username="carol")
    client = otp_login(make_staff("viewer", "auth.view_user"))

    response = client.post(f"/admin/auth/user/{customer.pk}/change/", {"username": "mallory", "email": "m@x.example"})

    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.username == "carol"
