"""Read-only console pages: records that change only through their services (and their audit events) offer
no add, change or delete, not even to a superuser. One mixin (config.admin.ReadOnlyAdminMixin) says so for
every app; these tests hold each page to it over HTTP and keep new read-only pages on the mixin."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model

from config.admin import ReadOnlyAdminMixin
from escalations.staff import staff_user_create

pytestmark = [pytest.mark.django_db]

# app_label.model: pages that only look (the records are facts, or change through services and actions).
READ_ONLY = {
    "audit.auditevent",
    "catalog_adapters.merchantwebhookevent",
    "consent.consentprofile",
    "consent.paymentmethod",
    "consent.address",
    "consent.merchantaccount",
    "consent.spendentry",
    "consent.stepupverification",
    "consent.policyactivation",
    "escalations.escalation",
    "ordering.conversation",
    "ordering.agentdecision",
    "ordering.orderflow",
}


def _registered() -> dict[str, admin.ModelAdmin]:
    return {f"{model._meta.app_label}.{model._meta.model_name}": page for model, page in admin.site._registry.items()}


def test_every_read_only_page_uses_the_one_mixin():
    pages = _registered()
    missing = sorted(READ_ONLY - pages.keys())
    assert not missing, f"not registered: {missing}"
    not_mixed = sorted(label for label in READ_ONLY if not isinstance(pages[label], ReadOnlyAdminMixin))
    assert not not_mixed, f"read-only pages that do not use ReadOnlyAdminMixin: {not_mixed}"


@pytest.mark.parametrize("label", sorted(READ_ONLY))
def test_a_superuser_can_look_but_not_add_change_or_delete(label, otp_login):
    user, _ = staff_user_create(username="root", password="correct-horse-battery-9", superuser=True)
    client = otp_login(user)
    app_label, model_name = label.split(".")
    base = f"/admin/{app_label}/{model_name}/"

    assert client.get(base).status_code == 200  # looking is allowed
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}add/", {}).status_code == 403

    page = _registered()[label]
    request = type("Request", (), {"user": user})()
    assert page.has_add_permission(request) is False
    assert page.has_delete_permission(request) is False
    assert page.has_change_permission(request, obj=object()) is False


def test_a_read_only_page_refuses_a_posted_change_to_an_existing_record(otp_login):
    from audit.models import ActorType
    from audit.services import audit_record

    user, _ = staff_user_create(username="root", password="correct-horse-battery-9", superuser=True)
    event = audit_record(action="test.looked", actor_type=ActorType.SYSTEM, target_type="test", target_id="1")
    client = otp_login(user)

    change = client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"action": "test.rewritten"})
    delete = client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})

    assert change.status_code == 403 and delete.status_code == 403
    assert get_user_model().objects.filter(pk=user.pk).exists()
    event.refresh_from_db()
    assert event.action == "test.looked"
