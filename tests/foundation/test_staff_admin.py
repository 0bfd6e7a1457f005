import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from escalations.staff import staff_user_create

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def staff(db):
    user, device = staff_user_create(username="sam", password=PASSWORD, superuser=True)
    return user, device


def _current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def test_a_staff_user_signed_in_without_otp_is_sent_to_the_login_page(client, staff):
    user, _ = staff
    client.force_login(user)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_admin_login_refuses_a_wrong_totp_code(client, staff):
    _, device = staff
    wrong = f"{(int(_current_code(device)) + 1) % 1_000_000:06d}"

    response = client.post("/admin/login/?next=/admin/", {"username": "sam", "password": PASSWORD, "otp_token": wrong})

    assert response.status_code == 200  # the form again, with an error
    assert client.get("/admin/").status_code == 302


def test_the_admin_lets_in_a_staff_user_who_verified_their_totp_device(client, staff):
    _, device = staff

    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": "sam",
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": _current_code(device),
        },
    )

    assert response.status_code == 302
    index = client.get("/admin/")
    assert index.status_code == 200
    assert b"Staff console" in index.content


@pytest.mark.django_db
def test_create_staff_user_prints_a_provisioning_uri_and_a_qr_code(monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)
    out = io.StringIO()

    call_command("create_staff_user", "dana", "--email", "dana@shop.example", stdout=out)

    user = get_user_model().objects.get(username="dana")
    assert user.is_staff and not user.is_superuser
    assert user.check_password(PASSWORD)
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed
    printed = out.getvalue()
    assert device.config_url in printed
    assert re.search(r"otpauth://totp/.+secret=[A-Z2-7]+", printed)
    assert "█" in printed  # the terminal QR code
    event = AuditEvent.objects.get(action="staff.created")
    assert (event.target_type, event.target_id, event.data["username"]) == ("user", str(user.pk), "dana")


@pytest.mark.django_db
def test_create_staff_user_refuses_an_existing_user_and_a_weak_password(monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)
    call_command("create_staff_user", "erin", stdout=io.StringIO())

    with pytest.raises(CommandError, match="exists"):
        call_command("create_staff_user", "erin", stdout=io.StringIO())

    monkeypatch.setenv("STAFF_PASSWORD", "123")
    with pytest.raises(CommandError, match="Password refused"):
        call_command("create_staff_user", "frank", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="frank").exists()


@pytest.mark.django_db
def test_replace_device_gives_the_user_a_new_secret(monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)
    call_command("create_staff_user", "gail", stdout=io.StringIO())
    old_key = TOTPDevice.objects.get(user__username="gail").key

    call_command("create_staff_user", "gail", "--replace-device", "--no-qr", stdout=io.StringIO())

    devices = TOTPDevice.objects.filter(user__username="gail")
    assert devices.count() == 1
    assert devices.get().key != old_key
    assert AuditEvent.objects.filter(action="staff.device_replaced", data__username="gail").count() == 1


@pytest.mark.parametrize("separator", [" ", "-"])
def test_the_code_typed_as_authenticator_apps_show_it_signs_in(client, staff, separator):
    _, device = staff
    code = _current_code(device)

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "sam", "password": PASSWORD, "otp_token": f"{code[:3]}{separator}{code[3:]}"},
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_with_a_space_is_still_refused(client, staff):
    _, device = staff
    wrong = f"{(int(_current_code(device)) + 1) % 1_000_000:06d}"

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "sam", "password": PASSWORD, "otp_token": f"{wrong[:3]} {wrong[3:]}"}
    )

    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302
