"""Who may sign in and with what powers: every sign-in, failure, lockout, sign-out and every change to
users, groups, permissions and authenticator devices goes into the audit log.

These are Django's own signals (auth's sign-in signals, model and many-to-many signals), because
accounts change in places we do not own (the admin's user and group pages, django-otp, `createsuperuser`)
and a signal is the one hook all of them pass through. Each receiver only describes the change and calls
`audit_record`, so the event joins the transaction of the change it describes.

Never in an event: a password, its hash, a code, a device key. The changed field's name is enough.

The actor of a model change is the staff member whose admin request made it (`acting_in_admin`, which
the audit app's `ready` registers around every console view), or the system (a service, a management
command, a migration) otherwise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import ActorType, Outcome
from audit.services import Origin, audit_record

# Flags whose before and after values are worth keeping; other user fields are named, not copied.
_USER_FLAGS = ("is_active", "is_staff", "is_superuser")
_USER_FIELDS = ("username", "email", "first_name", "last_name", *_USER_FLAGS)
_DEVICE_FIELDS = ("name", "confirmed", "user_id", "key")


@dataclass(frozen=True)
class _Actor:
    staff_id: int
    origin: Origin


_admin_actor: ContextVar[_Actor | None] = ContextVar("identity_admin_actor", default=None)


@contextlib.contextmanager
def acting_in_admin(request: HttpRequest) -> Iterator[None]:
    """Changes made while this is open are audited as the signed-in staff member's, from this request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        yield
        return
    token = _admin_actor.set(_Actor(staff_id=user.pk, origin=Origin.from_request(request, channel="admin")))
    try:
        yield
    finally:
        _admin_actor.reset(token)


def _record(*, action: str, target_type: str, target_id: object, data: dict[str, Any]) -> None:
    actor = _admin_actor.get()
    audit_record(
        action=action,
        actor_type=ActorType.STAFF if actor else ActorType.SYSTEM,
        actor_id=actor.staff_id if actor else None,
        target_type=target_type,
        target_id=target_id,
        data=data,
        origin=actor.origin if actor else None,
    )


# -- sign-in, sign-out, failures, lockouts ------------------------------------------------------------


def _site(request: HttpRequest | None) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "other"
    return "admin" if "admin" in match.app_names else "customer"


def _origin(request: HttpRequest | None, site: str) -> Origin | None:
    if request is None:
        return None
    return Origin.from_request(request, channel="admin" if site == "admin" else "web")


def _user_actor_type(user) -> ActorType:
    return ActorType.STAFF if user.is_staff else ActorType.CUSTOMER


def _on_logged_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    site = _site(request)
    audit_record(
        action="identity.signed_in",
        actor_type=_user_actor_type(user),
        actor_id=user.pk,
        target_type="user",
        target_id=user.pk,
        data={
            "username": user.get_username(),
            "site": site,
            "with_code": getattr(user, "otp_device", None) is not None,
        },
        origin=_origin(request, site),
    )


def _on_logged_out(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if user is None:  # signing out with no session is a no-op, not an event
        return
    site = _site(request)
    audit_record(
        action="identity.signed_out",
        actor_type=_user_actor_type(user),
        actor_id=user.pk,
        target_type="user",
        target_id=user.pk,
        data={"username": user.get_username(), "site": site},
        origin=_origin(request, site),
    )


def _on_login_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    site = _site(request)
    username = str((credentials or {}).get("username") or "")[:150]
    user = get_user_model()._default_manager.filter(username=username).only("pk").first() if username else None
    # django-axes has seen this failure first (its app is installed before ours): it marks the request
    # locked out, and counts the failure only when the lockout was not already on.
    locked = bool(getattr(request, "axes_locked_out", False))
    counted = getattr(request, "axes_failures_since_start", None)
    # Locked and not counted: refused before the password was even checked.
    reason = "locked_out" if locked and counted is None else (kwargs.get("stage") or "password")
    origin = _origin(request, site)
    target = {"target_type": "user", "target_id": user.pk} if user else {}
    audit_record(
        action="identity.sign_in_failed",
        actor_type=ActorType.SYSTEM,
        outcome=Outcome.DENIED if reason == "locked_out" else Outcome.FAILED,
        data={"username": username, "site": site, "reason": reason},
        origin=origin,
        **target,
    )
    if locked and counted is not None:
        audit_record(
            action="identity.locked_out",
            actor_type=ActorType.SYSTEM,
            outcome=Outcome.DENIED,
            data={
                "username": username,
                "site": site,
                "failures": counted,
                "minutes": settings.SIGN_IN_LOCKOUT_MINUTES,
            },
            origin=origin,
            **target,
        )


# -- users ----------------------------------------------------------------------------------------


def _user_before_save(sender, instance, raw: bool = False, update_fields: Iterable[str] | None = None, **kwargs):
    instance._identity_before = None
    if raw or instance._state.adding or instance.pk is None:
        return
    watched = [*_USER_FIELDS, "password"]
    if update_fields is not None:
        watched = [name for name in watched if name in set(update_fields)]
        if not watched:  # e.g. last_login on every sign-in
            return
    instance._identity_before = sender._default_manager.filter(pk=instance.pk).values(*watched).first()


def _user_after_save(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    if created:
        _record(
            action="identity.user_created",
            target_type="user",
            target_id=instance.pk,
            data={"username": instance.get_username(), **{flag: getattr(instance, flag) for flag in _USER_FLAGS}},
        )
        return
    before = getattr(instance, "_identity_before", None)
    instance._identity_before = None
    if not before:
        return
    password_was_set = "password" in before and before["password"] != instance.password
    changed = [name for name in _USER_FIELDS if name in before and before[name] != getattr(instance, name)]
    if changed:
        data: dict[str, Any] = {"username": instance.get_username(), "changed": changed}
        for flag in _USER_FLAGS:
            if flag in changed:
                data[flag] = {"from": before[flag], "to": getattr(instance, flag)}
        if "username" in changed:
            data["username_was"] = before["username"]
        _record(action="identity.user_changed", target_type="user", target_id=instance.pk, data=data)
    # A stored hash also changes when Django upgrades it at sign-in (`check_password`), which is not a new
    # password: `set_password` keeps the new one in `_password` until the save, the upgrade does not.
    if password_was_set and (getattr(instance, "_password", None) is not None or not instance.has_usable_password()):
        _record(
            action="identity.password_changed",
            target_type="user",
            target_id=instance.pk,
            data={"username": instance.get_username(), "usable": instance.has_usable_password()},
        )


def _user_deleted(sender, instance, **kwargs) -> None:
    _record(
        action="identity.user_deleted",
        target_type="user",
        target_id=instance.pk,
        data={"username": instance.get_username(), "was_superuser": instance.is_superuser},
    )


# -- groups ---------------------------------------------------------------------------------------


def _group_before_save(sender, instance: Group, raw: bool = False, **kwargs) -> None:
    instance._identity_name_before = (
        None
        if raw or instance.pk is None
        else Group.objects.filter(pk=instance.pk).values_list("name", flat=True).first()
    )


def _group_after_save(sender, instance: Group, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    if created:
        _record(
            action="identity.group_created", target_type="group", target_id=instance.pk, data={"name": instance.name}
        )
        return
    before = getattr(instance, "_identity_name_before", None)
    if before is not None and before != instance.name:
        _record(
            action="identity.group_changed",
            target_type="group",
            target_id=instance.pk,
            data={"name": instance.name, "name_was": before},
        )


def _group_deleted(sender, instance: Group, **kwargs) -> None:
    _record(action="identity.group_deleted", target_type="group", target_id=instance.pk, data={"name": instance.name})


# -- memberships and permissions (many-to-many) ----------------------------------------------------------


def _permission_names(pks: Iterable[int]) -> list[str]:
    return sorted(
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.filter(pk__in=list(pks)).values_list(
            "content_type__app_label", "codename"
        )
    )


def _group_names(pks: Iterable[int]) -> list[str]:
    return sorted(Group.objects.filter(pk__in=list(pks)).values_list("name", flat=True))


def _owner_label(owner) -> tuple[str, dict[str, str]]:
    if isinstance(owner, Group):
        return "group", {"name": owner.name}
    return "user", {"username": owner.get_username()}


def _m2m_receiver(*, action_name: str, owner_model, field: str, describe):
    """A receiver for one many-to-many relation, from either side (`user.groups.add(g)` or `g.user_set.add(u)`)."""

    def receiver(sender, instance, action: str, reverse: bool, model, pk_set: set | None, **kwargs) -> None:
        if action == "pre_clear":
            # The rows are gone by post_clear; remember which they were.
            if not reverse:
                instance._identity_cleared = set(getattr(instance, field).values_list("pk", flat=True))
            else:
                instance._identity_cleared = set(
                    owner_model._default_manager.filter(**{field: instance}).values_list("pk", flat=True)
                )
            return
        if action not in ("post_add", "post_remove", "post_clear"):
            return
        pks = set(pk_set or ()) if action != "post_clear" else getattr(instance, "_identity_cleared", set())
        if not pks:
            return
        key = "added" if action == "post_add" else "removed"
        if not reverse:
            owners_and_items = [(instance, describe(pks))]
        else:
            item = describe([instance.pk])
            owners_and_items = [(owner, item) for owner in owner_model._default_manager.filter(pk__in=pks)]
        for owner, items in owners_and_items:
            target_type, label = _owner_label(owner)
            _record(action=action_name, target_type=target_type, target_id=owner.pk, data={**label, key: items})

    return receiver


# -- authenticator devices --------------------------------------------------------------------------


def _device_before_save(sender, instance: TOTPDevice, raw: bool = False, **kwargs) -> None:
    instance._identity_before = (
        None
        if raw or instance._state.adding or instance.pk is None
        else TOTPDevice.objects.filter(pk=instance.pk).values(*_DEVICE_FIELDS).first()
    )


def _device_data(device: TOTPDevice) -> dict[str, Any]:
    return {"user_id": device.user_id, "name": device.name, "confirmed": device.confirmed}


def _device_after_save(sender, instance: TOTPDevice, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    if created:
        _record(
            action="identity.otp_device_created",
            target_type="otp_device",
            target_id=instance.pk,
            data=_device_data(instance),
        )
        return
    before = getattr(instance, "_identity_before", None)
    instance._identity_before = None
    if not before:
        return
    # Each verification saves the device (its last step, its throttle); only these fields are a change.
    changed = [name for name in _DEVICE_FIELDS if before[name] != getattr(instance, name)]
    if changed:
        data = {**_device_data(instance), "changed": ["secret" if name == "key" else name for name in changed]}
        _record(action="identity.otp_device_changed", target_type="otp_device", target_id=instance.pk, data=data)


def _device_deleted(sender, instance: TOTPDevice, **kwargs) -> None:
    _record(
        action="identity.otp_device_deleted",
        target_type="otp_device",
        target_id=instance.pk,
        data=_device_data(instance),
    )


# -- lockouts lifted by staff -----------------------------------------------------------------------


def _attempt_deleted(sender, instance, **kwargs) -> None:
    # django-axes deletes counters itself (expiry, a successful sign-in); only staff lifting one is news.
    if _admin_actor.get() is None:
        return
    _record(
        action="identity.lockout_cleared",
        target_type="user",
        target_id=None,
        data={"username": instance.username or "", "address": instance.ip_address or ""},
    )


def connect() -> None:
    """Called once from the audit app's `ready`; dispatch_uid keeps a second call harmless."""
    user_model = get_user_model()
    user_logged_in.connect(_on_logged_in, dispatch_uid="identity-audit-logged-in")
    user_logged_out.connect(_on_logged_out, dispatch_uid="identity-audit-logged-out")
    user_login_failed.connect(_on_login_failed, dispatch_uid="identity-audit-login-failed")

    pre_save.connect(_user_before_save, sender=user_model, dispatch_uid="identity-audit-user-pre")
    post_save.connect(_user_after_save, sender=user_model, dispatch_uid="identity-audit-user-post")
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid="identity-audit-user-delete")

    pre_save.connect(_group_before_save, sender=Group, dispatch_uid="identity-audit-group-pre")
    post_save.connect(_group_after_save, sender=Group, dispatch_uid="identity-audit-group-post")
    post_delete.connect(_group_deleted, sender=Group, dispatch_uid="identity-audit-group-delete")

    m2m_changed.connect(
        _m2m_receiver(
            action_name="identity.user_groups_changed", owner_model=user_model, field="groups", describe=_group_names
        ),
        sender=user_model.groups.through,
        dispatch_uid="identity-audit-user-groups",
        weak=False,
    )
    m2m_changed.connect(
        _m2m_receiver(
            action_name="identity.user_permissions_changed",
            owner_model=user_model,
            field="user_permissions",
            describe=_permission_names,
        ),
        sender=user_model.user_permissions.through,
        dispatch_uid="identity-audit-user-permissions",
        weak=False,
    )
    m2m_changed.connect(
        _m2m_receiver(
            action_name="identity.group_permissions_changed",
            owner_model=Group,
            field="permissions",
            describe=_permission_names,
        ),
        sender=Group.permissions.through,
        dispatch_uid="identity-audit-group-permissions",
        weak=False,
    )

    pre_save.connect(_device_before_save, sender=TOTPDevice, dispatch_uid="identity-audit-device-pre")
    post_save.connect(_device_after_save, sender=TOTPDevice, dispatch_uid="identity-audit-device-post")
    post_delete.connect(_device_deleted, sender=TOTPDevice, dispatch_uid="identity-audit-device-delete")

    from axes.models import AccessAttempt

    post_delete.connect(_attempt_deleted, sender=AccessAttempt, dispatch_uid="identity-audit-lockout-cleared")
