"""Staff accounts with chosen permissions, and codes from their authenticator devices."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct-horse-battery-9"


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    return f"{(int(current_code(device)) + 1) % 1_000_000:06d}"


def permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@pytest.fixture
def make_staff(db):
    """`make_staff(username, "app.codename", ...)`: a staff user holding exactly those permissions."""

    def make(username: str, *permissions: str, superuser: bool = False):
        user = get_user_model().objects.create_user(
            username, password=PASSWORD, is_staff=True, is_superuser=superuser, email=f"{username}@staff.example"
        )
        user.user_permissions.add(*[permission(dotted) for dotted in permissions])
        return user

    return make


@pytest.fixture
def fresh_cache():
    # DRF's throttle counts live in this run's Redis db: start each test at zero.
    cache.clear()
    yield
    cache.clear()
