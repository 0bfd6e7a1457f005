"""Staff accounts: a staff member with one confirmed TOTP device, and the support group that works the queue.

Split from escalations.services (the queue's writes) along its seam (#18): the accounts are who may act,
the queue is what they act on. `manage.py create_staff_user` and `manage.py seed_demo` call these.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import ActorType
from audit.services import audit_record

# The permissions of the support group (app label, codename); the data migration 0003 grants the same.
SUPPORT_PERMISSIONS = (
    ("escalations", "view_escalation"),
    ("escalations", "work_escalation"),
    ("audit", "view_auditevent"),
)
WORK_PERMISSION = "escalations.work_escalation"


class StaffUserExists(Exception):
    """A staff account with that username is already there; pass `replace_device` to re-enrol it."""


@transaction.atomic
def staff_user_create(
    *,
    username: str,
    password: str,
    email: str = "",
    superuser: bool = False,
    replace_device: bool = False,
    support: bool = False,
) -> tuple[AbstractUser, TOTPDevice]:
    """Create (or re-enrol) a staff account with one confirmed TOTP device.

    The device is confirmed at once because the person running this prints its provisioning URI on
    a trusted terminal; the admin still refuses the account until a code from it has been entered.
    With `support`, the account joins the support group and may work the escalation queue.
    """
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is not None and not replace_device:
        raise StaffUserExists(username)
    if user is None:
        user = user_model(username=username, email=email)
    validate_password(password, user)
    user.is_staff = True
    user.is_superuser = superuser or user.is_superuser
    if email:
        user.email = email
    user.set_password(password)
    user.save()
    replaced = TOTPDevice.objects.filter(user=user).delete()[0] > 0
    device = TOTPDevice.objects.create(user=user, name=f"{username} authenticator", confirmed=True)
    if support:
        user.groups.add(support_group_ensure())
    audit_record(
        action="staff.device_replaced" if replaced else "staff.created",
        actor_type=ActorType.SYSTEM,
        target_type="user",
        target_id=user.pk,
        data={"username": user.username, "superuser": user.is_superuser, "support": support},
    )
    return user, device


def support_group_ensure() -> Group:
    """The support group with exactly its permissions (also after a test flush or a group rename).

    Exactly: anything else found on the group is taken away, so a permission added by hand (a user or
    group permission would let a member create accounts or give themselves powers) does not survive the
    next `create_staff_user --support`.
    """
    group, _ = Group.objects.get_or_create(name=settings.ESCALATIONS_SUPPORT_GROUP)
    group.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in SUPPORT_PERMISSIONS
        ]
    )
    return group
