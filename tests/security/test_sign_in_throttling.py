"""Sign-in failures are counted per username and per address (django-axes); past the limit the sign-in
page says so with a 429, for customers and staff alike, and the lockout is audited."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from escalations.staff import staff_user_create
from tests.consent.factories import UserFactory
from tests.security.conftest import PASSWORD, current_code, wrong_code

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-in attempts; try again in 15 minutes."


def _customer_sign_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_a_customer_is_locked_out_after_five_wrong_passwords_even_with_the_right_one(client):
    UserFactory(username="carol")
    for _ in range(4):
        assert _customer_sign_in(client, "carol", "wrong-password-1").status_code == 200

    fifth = _customer_sign_in(client, "carol", "wrong-password-1")
    right = _customer_sign_in(client, "carol", PASSWORD)

    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert "_auth_user_id" not in client.session
    locked = AuditEvent.objects.get(action="identity.locked_out")
    assert locked.data == {"username": "carol", "site": "customer", "failures": 5, "minutes": 15}
    refused = AuditEvent.objects.filter(action="identity.sign_in_failed", data__reason="locked_out")
    assert refused.count() == 1 and refused.get().outcome == "denied"


def test_the_same_username_from_another_address_is_locked_too():
    UserFactory(username="carol")
    here = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(5):
        _customer_sign_in(here, "carol", "wrong-password-1")

    elsewhere = _customer_sign_in(Client(REMOTE_ADDR="203.0.113.9"), "carol", PASSWORD)

    assert elsewhere.status_code == 429


def test_one_address_trying_many_usernames_is_locked():
    UserFactory(username="carol")
    spray = Client(REMOTE_ADDR="198.51.100.8")
    for index in range(5):
        _customer_sign_in(spray, f"guess{index}", "Password1")

    carol = _customer_sign_in(spray, "carol", PASSWORD)
    other_address = _customer_sign_in(Client(REMOTE_ADDR="203.0.113.10"), "carol", PASSWORD)

    assert carol.status_code == 429
    assert other_address.status_code == 302


def test_a_successful_sign_in_clears_the_earlier_failures(client):
    UserFactory(username="carol")
    for _ in range(4):
        _customer_sign_in(client, "carol", "wrong-password-1")
    assert _customer_sign_in(client, "carol", PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    for _ in range(4):
        assert _customer_sign_in(client, "carol", "wrong-password-1").status_code == 200

    assert _customer_sign_in(client, "carol", PASSWORD).status_code == 302


def test_signing_in_as_another_user_does_not_clear_the_failures_against_a_victim():
    # The attack: four guesses at the victim's password, sign in correctly as one's own account (which,
    # with axes' reset on success, wiped every failure from the address), sign out, and again.
    UserFactory(username="victim")
    UserFactory(username="mallory")
    attacker = Client(REMOTE_ADDR="198.51.100.20")
    outcomes = []
    for _ in range(3):
        outcomes.extend(_customer_sign_in(attacker, "victim", "guess-1").status_code for _ in range(4))
        if outcomes[-1] == 429:
            break
        assert _customer_sign_in(attacker, "mallory", PASSWORD).status_code == 302
        attacker.post("/accounts/logout/")

    # the fifth guess at the victim's password is the last one, whatever happened in between
    assert outcomes == [200, 200, 200, 200, 429, 429, 429, 429]
    assert _customer_sign_in(Client(REMOTE_ADDR="203.0.113.20"), "victim", PASSWORD).status_code == 429
    assert AuditEvent.objects.get(action="identity.locked_out").data["username"] == "victim"


def test_a_users_own_success_clears_their_failures_from_every_address_but_not_the_addresss_other_failures():
    UserFactory(username="carol")
    UserFactory(username="dave")
    shared = Client(REMOTE_ADDR="198.51.100.21")  # an office: carol mistypes, someone guesses at dave
    for _ in range(2):
        _customer_sign_in(shared, "dave", "guess-1")
    for _ in range(2):
        _customer_sign_in(shared, "carol", "wrong-password-1")
    for _ in range(2):
        _customer_sign_in(Client(REMOTE_ADDR="203.0.113.21"), "carol", "wrong-password-1")

    assert _customer_sign_in(shared, "carol", PASSWORD).status_code == 302
    shared.post("/accounts/logout/")

    # carol's four failures are gone: she has five again, from anywhere
    elsewhere = Client(REMOTE_ADDR="203.0.113.23")
    assert [_customer_sign_in(elsewhere, "carol", "wrong-password-1").status_code for _ in range(4)] == [200] * 4
    assert _customer_sign_in(elsewhere, "carol", PASSWORD).status_code == 302
    # the office still has the two guesses at dave against it: three more failures lock it
    assert [_customer_sign_in(shared, "erin", "guess-1").status_code for _ in range(3)] == [200, 200, 429]


def test_the_lockout_ends_after_its_minutes(client, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    UserFactory(username="carol")
    for _ in range(5):
        _customer_sign_in(client, "carol", "wrong-password-1")
    assert _customer_sign_in(client, "carol", PASSWORD).status_code == 429

    # sixteen minutes later
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert _customer_sign_in(client, "carol", PASSWORD).status_code == 302


def test_wrong_authenticator_codes_lock_a_staff_member_out(client):
    _, device = staff_user_create(username="sam", password=PASSWORD)
    for _ in range(4):
        response = client.post(
            "/admin/login/", {"username": "sam", "password": PASSWORD, "otp_token": wrong_code(device)}
        )
        assert response.status_code == 200

    fifth = client.post("/admin/login/", {"username": "sam", "password": PASSWORD, "otp_token": wrong_code(device)})
    right = client.post("/admin/login/", {"username": "sam", "password": PASSWORD, "otp_token": current_code(device)})

    assert fifth.status_code == 429 and right.status_code == 429
    assert list(right.context["form"].non_field_errors()) == [LOCKED]
    assert LOCKED in right.content.decode()
    assert client.get("/admin/").status_code == 302
    assert AuditEvent.objects.get(action="identity.locked_out").data == {
        "username": "sam",
        "site": "admin",
        "failures": 5,
        "minutes": 15,
    }


def test_authenticating_without_a_request_still_checks_the_password(client):
    # a shell or a script has no address to count; the test client's login() is one of those
    from django.contrib.auth import authenticate

    UserFactory(username="carol")

    assert authenticate(username="carol", password=PASSWORD) is not None
    assert authenticate(username="carol", password="wrong-password-1") is None
    assert client.login(username="carol", password=PASSWORD)
