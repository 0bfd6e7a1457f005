"""Consent grants, spend caps, vault-only payment methods, step-up.

The staff console pages. Actions call services; they never save models directly. Everything here is
read-only for staff: consent, money and identity change only through the customer or a service.
"""

from django.contrib import admin, messages

from audit.models import ActorType
from config.admin import RefuseUnofferedActionsMixin
from consent.models import (
    Address,
    ConsentGrant,
    ConsentProfile,
    GrantChannel,
    GrantStatus,
    MerchantAccount,
    PaymentMethod,
    SpendEntry,
    StepUpVerification,
)
from consent.services import consent_revoke


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ConsentGrant)
class ConsentGrantAdmin(RefuseUnofferedActionsMixin, ReadOnlyAdmin):
    list_display = ["id", "user", "scope", "status", "granted_at", "granted_via", "expires_at", "ended_at"]
    list_filter = ["scope", "status", "granted_via"]
    search_fields = ["user__username", "user__email"]
    actions = ["revoke_selected"]

    # Revoking changes the customer's consent: change permission, not view (Django offers and runs an
    # action without `permissions` for anyone who can see the list).
    @admin.action(description="Revoke selected grants (the customer is told)", permissions=["change"])
    def revoke_selected(self, request, queryset) -> None:
        revoked = 0
        for grant in queryset.filter(status=GrantStatus.ACTIVE):
            consent_revoke(
                user_id=grant.user_id,
                grant_id=grant.pk,
                via=GrantChannel.STAFF,
                actor_type=ActorType.STAFF,
                actor_id=request.user.pk,
                reason="revoked by support staff",
            )
            revoked += 1
        self.message_user(request, f"Revoked {revoked} grant(s).", messages.SUCCESS)

    def has_change_permission(self, request, obj=None) -> bool:
        # The revoke action needs change permission to be offered; the form itself stays read-only.
        return obj is None and request.user.has_perm("consent.change_consentgrant")


@admin.register(ConsentProfile)
class ConsentProfileAdmin(ReadOnlyAdmin):
    list_display = ["user", "currency", "cap_per_order", "cap_per_day", "cap_per_month", "cap_per_session"]
    search_fields = ["user__username"]


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "masked", "vault_reference", "merchant_id", "is_default", "removed_at"]
    search_fields = ["user__username", "vault_reference"]


@admin.register(Address)
class AddressAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "label", "city", "country", "is_default", "removed_at"]
    search_fields = ["user__username"]


@admin.register(MerchantAccount)
class MerchantAccountAdmin(ReadOnlyAdmin):
    list_display = ["user", "merchant_id", "customer_ref", "email"]
    search_fields = ["user__username", "customer_ref", "email"]


@admin.register(SpendEntry)
class SpendEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "kind", "amount", "currency", "flow_reference", "created_at", "expires_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "flow_reference", "chat_session_reference"]


@admin.register(StepUpVerification)
class StepUpVerificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "verified_at", "channel"]
