"""Who may change accounts in the staff console.

Accounts, groups and devices are where a staff member could give themselves more power, so only
superusers change powers (staff and superuser flags, groups, permissions), staff accounts and
authenticator devices; anyone else with a user permission edits customers' ordinary fields at most.
These replace the pages django.contrib.auth and django-otp register (`config.apps` calls
`accounts_register` once every app's admin is loaded).
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

_POWER_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


def _is_powerful(user) -> bool:
    return bool(user is not None and (user.is_staff or user.is_superuser))


class StaffUserAdmin(UserAdmin):
    def get_readonly_fields(self, request: HttpRequest, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += [name for name in _POWER_FIELDS if name not in readonly]
        return readonly

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # A staff account's password or e-mail is a way into the console: superusers only.
        if _is_powerful(obj) and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if _is_powerful(obj) and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


class StaffGroupAdmin(GroupAdmin):
    """A group's permissions are powers: superusers only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


class StaffTOTPDeviceAdmin(TOTPDeviceAdmin):
    """An authenticator device is the second factor of someone's sign-in: superusers only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


class StaffAccessAttemptAdmin(AccessAttemptAdmin):
    """Failed sign-in counters: clearing them lifts a lockout, which needs the delete permission."""

    actions = ["cleanup_expired_attempts"]

    @admin.action(description="Clean up expired attempts", permissions=["delete"])
    def cleanup_expired_attempts(self, request: HttpRequest, queryset) -> None:
        super().cleanup_expired_attempts(request, queryset)


def accounts_register(site: admin.AdminSite) -> None:
    """Replace the pages django.contrib.auth, django-otp and django-axes registered with the guarded ones."""
    for model, model_admin in (
        (get_user_model(), StaffUserAdmin),
        (Group, StaffGroupAdmin),
        (TOTPDevice, StaffTOTPDeviceAdmin),
        (AccessAttempt, StaffAccessAttemptAdmin),
    ):
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, model_admin)
