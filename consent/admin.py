"""Consent grants, spend caps, vault-only payment methods, step-up.

The staff console pages. Actions call services; they never save models directly. Everything here is
read-only for staff: consent, money and identity change only through the customer or a service.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from audit.models import ActorType
from audit.services import Origin
from config.admin import ReadOnlyAdminMixin, RefuseUnofferedActionsMixin
from consent.models import (
    Address,
    ConsentGrant,
    ConsentProfile,
    GrantChannel,
    GrantStatus,
    MerchantAccount,
    PaymentMethod,
    PolicyActivation,
    SpendEntry,
    StepUpVerification,
)
from consent.policies import PolicyError, policy_load, policy_versions
from consent.policies.schema import policy_summary
from consent.policies.services import policy_activate, policy_active_version
from consent.services.grants import consent_revoke


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


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


# -- policies ------------------------------------------------------------------------------------


@admin.register(PolicyActivation)
class PolicyActivationAdmin(ReadOnlyAdmin):
    """Policy versions: the files in ORDERING_POLICY_DIR with the active one marked, the activation history,
    and (with the activate_policy permission) a button that activates a version, audited."""

    def get_urls(self):
        activate = self.admin_site.admin_view(self.activate_view)
        return [
            path("activate/", activate, name="consent_policyactivation_activate"),
            *super().get_urls(),
        ]

    def has_activate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("consent.activate_policy")

    def changelist_view(self, request: HttpRequest, extra_context=None) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        active = policy_active_version()
        versions = []
        for version in policy_versions():
            try:
                policy = policy_load(version)
            except PolicyError as error:
                problems = getattr(error, "errors", [error.message])
                versions.append({"version": version, "valid": False, "errors": problems})
                continue
            versions.append(
                {
                    "version": version,
                    "valid": True,
                    "active": version == active,
                    "default": version == settings.ORDERING_POLICY_VERSION,
                    "summary": policy_summary(policy),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Policy versions",
            "opts": self.model._meta,
            "active": active,
            "activated": PolicyActivation.objects.filter(active=True).exists(),
            "versions": versions,
            "history": PolicyActivation.objects.select_related("activated_by")[:50],
            "can_activate": self.has_activate_permission(request),
            "refresh_seconds": settings.ORDERING_POLICY_REFRESH_SECONDS,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/consent/policy_versions.html", context)

    def activate_view(self, request: HttpRequest) -> HttpResponseRedirect:
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:consent_policyactivation_changelist"))
        if not self.has_activate_permission(request):
            raise PermissionDenied
        version = (request.POST.get("version") or "").strip()
        try:
            activation = policy_activate(
                version=version,
                actor_type=ActorType.STAFF,
                actor_id=request.user.pk,
                reason=request.POST.get("reason") or "",
                origin=Origin.from_request(request, channel="admin"),
            )
        except PolicyError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(
                request,
                f"Policy {activation.version} is in force (was {activation.previous_version or 'the default'}); "
                f"every process uses it within {settings.ORDERING_POLICY_REFRESH_SECONDS} seconds.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:consent_policyactivation_changelist"))
