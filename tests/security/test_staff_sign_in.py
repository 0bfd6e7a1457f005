"""The staff console's sign-in: username, password and the authenticator code in one step."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from escalations.staff import staff_user_create
from tests.security.conftest import PASSWORD, current_code, wrong_code

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def sam():
    return staff_user_create(username="sam", password=PASSWORD, support=True)


def _errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


def test_the_first_attempt_with_the_right_code_signs_in_without_choosing_a_device(client, sam):
    _, device = sam

    page = client.get(LOGIN)
    response = client.post(LOGIN, {"username": "sam", "password": PASSWORD, "otp_token": current_code(device)})

    assert b'name="otp_token"' in page.content
    assert b"otp_device" not in page.content
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_is_a_clear_error_and_no_session(client, sam):
    _, device = sam

    response = client.post(LOGIN, {"username": "sam", "password": PASSWORD, "otp_token": wrong_code(device)})

    assert response.status_code == 200
    assert _errors(response) == ["That code is wrong or has expired. Enter the code your authenticator app shows now."]
    assert client.get("/admin/").status_code == 302


def test_a_missing_code_is_asked_for_without_saying_whether_the_password_was_right(client, sam):
    right = client.post(LOGIN, {"username": "sam", "password": PASSWORD, "otp_token": ""})
    wrong = client.post(LOGIN, {"username": "sam", "password": "not-the-password-1", "otp_token": ""})

    expected = ["Enter the 6-digit code from your authenticator app along with your password."]
    assert _errors(right) == expected and _errors(wrong) == expected


def test_with_several_devices_the_code_of_any_of_them_signs_in(client, sam):
    user, _ = sam
    second = TOTPDevice.objects.create(user=user, name="backup phone", confirmed=True)
    TOTPDevice.objects.create(user=user, name="never confirmed", confirmed=False)

    response = client.post(LOGIN, {"username": "sam", "password": PASSWORD, "otp_token": current_code(second)})

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_an_unconfirmed_devices_code_does_not_sign_in(client, sam):
    user, device = sam
    device.delete()
    pending = TOTPDevice.objects.create(user=user, name="pending", confirmed=False)

    response = client.post(LOGIN, {"username": "sam", "password": PASSWORD, "otp_token": current_code(pending)})

    assert response.status_code == 200
    assert "no authenticator set up" in _errors(response)[0]


def test_another_users_device_is_never_tried(client, sam):
    staff_user_create(username="tom", password="toms-long-pass-42")
    toms_device = TOTPDevice.objects.get(user__username="tom")

    response = client.post(
        LOGIN,
        {
            "username": "sam",
            "password": PASSWORD,
            "otp_token": current_code(toms_device),
            "otp_device": toms_device.persistent_id,
        },
    )

    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_a_code_is_good_for_one_sign_in_only(client, sam):
    _, device = sam
    code = current_code(device)
    client.post(LOGIN, {"username": "sam", "password": PASSWORD, "otp_token": code})

    replay = Client().post(LOGIN, {"username": "sam", "password": PASSWORD, "otp_token": code})

    assert replay.status_code == 200
    assert "wrong or has expired" in _errors(replay)[0]


def test_right_after_a_wrong_code_the_right_one_waits_a_moment(client, sam):
    # django-otp's own throttle: 1 s after the first wrong code, doubling after each further one
    _, device = sam
    client.post(LOGIN, {"username": "sam", "password": PASSWORD, "otp_token": wrong_code(device)})

    response = client.post(LOGIN, {"username": "sam", "password": PASSWORD, "otp_token": current_code(device)})

    assert response.status_code == 200
    assert _errors(response)[0].startswith("After a wrong code, codes for this account are refused for a few seconds")


@pytest.mark.django_db(transaction=True)
def test_two_sign_ins_racing_with_the_same_code_let_one_in():
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connections

    _, device = staff_user_create(username="sam", password=PASSWORD)
    code = current_code(device)
    start = Barrier(2)

    def sign_in() -> int:
        try:
            client = Client()
            start.wait()
            return client.post(LOGIN, {"username": "sam", "password": PASSWORD, "otp_token": code}).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(lambda _: sign_in(), range(2)))

    assert statuses == [200, 302]  # one signed in; the other was told the code is used
