"""Step-up: TOTP enrolment (QR code), verification, and the "verified within N minutes" check flows use."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.oath import hotp, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from consent.exceptions import StepUpInvalidCode, StepUpNotEnrolled
from consent.models import StepUpVerification
from consent.selectors import stepup_verified_within
from consent.services.stepup import stepup_enrol_begin, stepup_enrol_confirm, stepup_verify


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    # The device refuses a code it already accepted, so a second check uses a later time step: counted from the step it
    # last accepted, not from the clock (a 30-second boundary between the two calls made the device's synced drift
    # refuse "now + 1")
    if steps_ahead:
        device.refresh_from_db()
        return f"{hotp(device.bin_key, device.last_t + steps_ahead, digits=device.digits):06d}"
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def wrong_code(device: TOTPDevice) -> str:
    return f"{(int(code_for(device)) + 500_000) % 1_000_000:06d}"


def test_enrolment_through_the_api_shows_a_qr_code_and_a_code_confirms_it(alice_api, alice):
    begun = alice_api.post("/api/v1/consent/step-up/enrol/")

    assert begun.status_code == 201
    body = begun.json()
    assert body["qr_svg"].startswith("<svg") and "<path" in body["qr_svg"]
    assert body["config_url"].startswith("otpauth://totp/")
    assert body["enrolled"] is False and body["enrolment_pending"] is True
    device = TOTPDevice.objects.get(user=alice, confirmed=False)

    confirmed = alice_api.post("/api/v1/consent/step-up/confirm/", {"code": code_for(device)}, format="json")

    assert confirmed.status_code == 200
    assert confirmed.json()["enrolled"] is True
    # setting up an app proves only that whoever holds the session has that app: not a verification
    assert confirmed.json()["verified_within_window"] is False
    assert confirmed.json()["last_verified_at"] is None
    device.refresh_from_db()
    assert device.confirmed


def test_a_wrong_code_is_a_400_and_is_recorded_as_denied(alice_api, alice):
    stepup_enrol_begin(user_id=alice.pk)
    device = TOTPDevice.objects.get(user=alice)

    response = alice_api.post("/api/v1/consent/step-up/confirm/", {"code": wrong_code(device)}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "stepup_invalid_code"
    assert "not right" in response.json()["message"]
    device.refresh_from_db()
    assert not device.confirmed
    assert device.throttling_failure_count == 1  # the failure was not rolled back
    assert AuditEvent.objects.filter(action="consent.stepup_enrolment_failed", outcome="denied").count() == 1


def test_verification_is_recorded_and_the_window_closes_after_n_minutes(alice):
    stepup_enrol_begin(user_id=alice.pk)
    device = TOTPDevice.objects.get(user=alice)
    stepup_enrol_confirm(user_id=alice.pk, code=code_for(device))
    assert not stepup_verified_within(user_id=alice.pk)

    verification = stepup_verify(user_id=alice.pk, code=code_for(device, steps_ahead=1))

    assert stepup_verified_within(user_id=alice.pk, minutes=10)
    just_inside = verification.verified_at + timedelta(minutes=10)
    just_outside = verification.verified_at + timedelta(minutes=10, seconds=1)
    assert stepup_verified_within(user_id=alice.pk, minutes=10, now=just_inside)
    assert not stepup_verified_within(user_id=alice.pk, minutes=10, now=just_outside)
    assert stepup_verified_within(user_id=alice.pk, now=just_inside)  # default window from settings
    assert AuditEvent.objects.filter(action="consent.stepup_verified", customer_id=alice.pk).count() == 1


def test_a_code_cannot_be_replayed(alice):
    stepup_enrol_begin(user_id=alice.pk)
    device = TOTPDevice.objects.get(user=alice)
    code = code_for(device)
    stepup_enrol_confirm(user_id=alice.pk, code=code)

    with pytest.raises(StepUpInvalidCode):
        stepup_verify(user_id=alice.pk, code=code)


def test_verifying_without_an_app_says_so(alice_api, alice):
    with pytest.raises(StepUpNotEnrolled):
        stepup_verify(user_id=alice.pk, code="123456")

    response = alice_api.post("/api/v1/consent/step-up/verify/", {"code": "123456"}, format="json")
    assert response.status_code == 409
    assert "authenticator" in response.json()["message"]


def test_another_customers_verification_does_not_count(alice, bob):
    StepUpVerification.objects.create(user=bob, verified_at=timezone.now())

    assert not stepup_verified_within(user_id=alice.pk)
    assert stepup_verified_within(user_id=bob.pk)


def test_enrolment_and_verification_on_the_settings_page(alice_client, alice):
    alice_client.post("/settings/step-up/enrol/")
    page = alice_client.get("/settings/").content.decode()
    assert re.search(r"<svg[^>]*>.*<path", page, re.S)
    device = TOTPDevice.objects.get(user=alice, confirmed=False)

    after = alice_client.post("/settings/step-up/confirm/", {"code": code_for(device)}, follow=True).content.decode()
    assert "Your authenticator app is set up." in after

    assert not StepUpVerification.objects.filter(user=alice).exists()

    verified = alice_client.post("/settings/step-up/verify/", {"code": code_for(device, 1)}, follow=True)
    assert "you are verified for the next 10 minutes" in verified.content.decode()
    assert StepUpVerification.objects.filter(user=alice).count() == 1


def test_guessing_is_throttled_with_a_429_that_says_how_long_to_wait(alice_api, alice):
    stepup_enrol_begin(user_id=alice.pk)
    device = TOTPDevice.objects.get(user=alice)
    alice_api.post("/api/v1/consent/step-up/confirm/", {"code": wrong_code(device)}, format="json")
    alice_api.post("/api/v1/consent/step-up/confirm/", {"code": wrong_code(device)}, format="json")

    response = alice_api.post("/api/v1/consent/step-up/confirm/", {"code": code_for(device)}, format="json")

    assert response.status_code == 429
    assert response.json()["error"] == "stepup_throttled"
    assert response.json()["message"].startswith("Too many wrong codes. Wait ")
    assert response.json()["retry_after"] >= 1
    device.refresh_from_db()
    assert not device.confirmed


# -- enrolment is not a verification ---------------------------------------------------------------


def test_enrolling_an_app_does_not_pass_step_up_until_a_later_code_is_verified(alice):
    # given someone with the session sets up an app of their own and confirms it
    stepup_enrol_begin(user_id=alice.pk)
    device = TOTPDevice.objects.get(user=alice)

    stepup_enrol_confirm(user_id=alice.pk, code=code_for(device))

    # then flows still see no verification
    assert not stepup_verified_within(user_id=alice.pk)
    assert not StepUpVerification.objects.filter(user=alice).exists()
    # until a later code from the app is checked
    stepup_verify(user_id=alice.pk, code=code_for(device, steps_ahead=1))
    assert stepup_verified_within(user_id=alice.pk)


# -- replacing a confirmed app needs the current code or the password -------------------------------


@pytest.fixture
def enrolled(alice):
    stepup_enrol_begin(user_id=alice.pk)
    device = TOTPDevice.objects.get(user=alice)
    stepup_enrol_confirm(user_id=alice.pk, code=code_for(device))
    device.refresh_from_db()
    return device


def _devices(user) -> list[tuple[int, bool]]:
    return list(TOTPDevice.objects.filter(user=user).order_by("pk").values_list("pk", "confirmed"))


def test_replacing_the_app_without_proof_is_refused_and_changes_nothing(alice_api, alice, enrolled):
    before = _devices(alice)

    response = alice_api.post("/api/v1/consent/step-up/enrol/", {}, format="json")

    assert response.status_code == 403
    assert response.json()["error"] == "stepup_proof_required"
    assert "code from that app or your account password" in response.json()["message"]
    assert _devices(alice) == before
    refused = AuditEvent.objects.get(action="consent.stepup_replacement_refused")
    assert (refused.outcome, refused.data["reason"]) == ("denied", "no_proof")


@pytest.mark.parametrize(
    ("proof", "reason", "message"),
    [
        ("code", "wrong_code", "That code is not right"),
        ("password", "wrong_password", "That password is not right"),
    ],
)
def test_replacing_the_app_with_wrong_proof_is_refused(alice_api, alice, enrolled, proof, reason, message):
    before = _devices(alice)
    body = {"current_code": wrong_code(enrolled)} if proof == "code" else {"password": "not-the-password"}

    response = alice_api.post("/api/v1/consent/step-up/enrol/", body, format="json")

    assert response.status_code == 403
    assert response.json()["error"] == "stepup_proof_invalid"
    assert response.json()["message"].startswith(message)
    assert "not-the-password" not in response.content.decode()
    assert _devices(alice) == before
    enrolled.refresh_from_db()
    assert enrolled.throttling_failure_count == 1  # wrong passwords are throttled like wrong codes
    assert AuditEvent.objects.get(action="consent.stepup_replacement_refused").data["reason"] == reason


def test_guessing_the_password_to_replace_the_app_is_throttled(alice_api, alice, enrolled, settings):
    from tests.consent.factories import PASSWORD

    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a wait far longer than this test, whatever the machine's speed

    alice_api.post("/api/v1/consent/step-up/enrol/", {"password": "guess-1"}, format="json")

    response = alice_api.post("/api/v1/consent/step-up/enrol/", {"password": PASSWORD}, format="json")

    assert response.status_code == 429
    assert response.json()["message"].startswith("Too many wrong attempts. Wait ")
    assert _devices(alice) == [(enrolled.pk, True)]


@pytest.mark.parametrize("proof", ["code", "password"])
def test_the_owner_replaces_the_app_with_its_code_or_the_password(alice_api, alice, enrolled, proof):
    from tests.consent.factories import PASSWORD

    body = {"current_code": code_for(enrolled, steps_ahead=1)} if proof == "code" else {"password": PASSWORD}

    begun = alice_api.post("/api/v1/consent/step-up/enrol/", body, format="json")

    assert begun.status_code == 201
    assert begun.json()["enrolled"] is True and begun.json()["enrolment_pending"] is True
    new = TOTPDevice.objects.get(user=alice, confirmed=False)
    # the old app keeps working until the new one is confirmed
    assert TOTPDevice.objects.filter(pk=enrolled.pk, confirmed=True).exists()

    confirmed = alice_api.post("/api/v1/consent/step-up/confirm/", {"code": code_for(new)}, format="json")

    assert confirmed.status_code == 200
    assert _devices(alice) == [(new.pk, True)]
    assert confirmed.json()["verified_within_window"] is False
    assert AuditEvent.objects.get(action="consent.stepup_enrolled", target_id=str(new.pk)).data == {"replaced": True}


def test_the_settings_page_asks_for_the_code_or_password_to_replace_the_app(alice_client, alice, enrolled):
    from tests.consent.factories import PASSWORD

    page = alice_client.get("/settings/").content.decode()
    assert "Replace your authenticator app" in page and 'name="password"' in page and 'name="current_code"' in page

    refused = alice_client.post("/settings/step-up/enrol/", {}, follow=True).content.decode()
    assert "To replace it, enter a code from that app or your account password." in refused
    assert _devices(alice) == [(enrolled.pk, True)]

    accepted = alice_client.post("/settings/step-up/enrol/", {"password": PASSWORD}, follow=True).content.decode()
    assert "Scan the QR code with your authenticator app" in accepted
    assert re.search(r"<svg[^>]*>.*<path", accepted, re.S)
    assert TOTPDevice.objects.filter(user=alice, confirmed=False).count() == 1


def test_the_first_app_needs_no_proof(alice_api, alice):
    assert alice_api.post("/api/v1/consent/step-up/enrol/", {}, format="json").status_code == 201
    # and starting again before confirming replaces the pending one, still without proof
    assert alice_api.post("/api/v1/consent/step-up/enrol/", {}, format="json").status_code == 201
    assert TOTPDevice.objects.filter(user=alice).count() == 1


# -- a pending app begun with no proof never replaces one confirmed since ----------------------------


@pytest.mark.django_db(transaction=True)
def test_an_unproven_enrolment_racing_the_customers_confirmation_cannot_replace_her_app(alice, monkeypatch):
    # Someone holding alice's session starts enrolling their own app while she has none: no proof is asked.
    # Between that check and the creation of their pending device, alice confirms her own app. Their
    # device must not be created then, and must never replace hers. Real PostgreSQL, two connections;
    # the only thing added is a pause at the check, to hold the other thread exactly inside that window.
    from django.db import connections

    from consent.exceptions import StepUpProofRequired
    from consent.services import stepup as stepup_services

    stepup_enrol_begin(user_id=alice.pk)
    hers = TOTPDevice.objects.get(user=alice)
    checked, her_app_confirmed = threading.Event(), threading.Event()
    real_stepup_device = stepup_services.stepup_device

    def stepup_device_pausing_the_other_thread(*, user_id, confirmed=True):
        found = real_stepup_device(user_id=user_id, confirmed=confirmed)
        if threading.current_thread().name == "other" and confirmed is True and not checked.is_set():
            checked.set()
            her_app_confirmed.wait(30)
        return found

    monkeypatch.setattr(stepup_services, "stepup_device", stepup_device_pausing_the_other_thread)
    outcome: dict[str, object] = {}

    def other_begins() -> None:
        try:
            outcome["device"] = stepup_enrol_begin(user_id=alice.pk)
        except Exception as error:  # the assertion below says which one was expected
            outcome["error"] = error
        finally:
            connections.close_all()

    other = threading.Thread(target=other_begins, name="other")
    other.start()
    assert checked.wait(30)  # they were told no proof is needed: no app is set up yet
    stepup_enrol_confirm(user_id=alice.pk, code=code_for(hers))
    her_app_confirmed.set()
    other.join(30)

    if "device" in outcome:  # their app was begun after all: they go on to confirm it with its code
        stepup_enrol_confirm(user_id=alice.pk, code=code_for(outcome["device"]))
    assert isinstance(outcome.get("error"), StepUpProofRequired), outcome
    assert "To replace it, enter a code from that app or your account password." in str(outcome["error"])
    assert _devices(alice) == [(hers.pk, True)]
    refused = AuditEvent.objects.get(action="consent.stepup_replacement_refused")
    assert (refused.outcome, refused.data["reason"]) == ("denied", "no_proof")
    assert AuditEvent.objects.filter(action="consent.stepup_enrolment_started").count() == 1


@pytest.mark.django_db(transaction=True)
def test_begin_and_confirm_racing_many_times_never_leave_another_app_in_place_of_hers(alice):
    # No pause: the two run at once on two connections, round after round. Whatever the interleaving,
    # once her confirmation succeeded the only app left is hers.
    from django.db import connections

    from consent.exceptions import ConsentError

    def her_confirmation(device):
        return stepup_enrol_confirm(user_id=alice.pk, code=code_for(device))

    def their_enrolment(_hers):
        device = stepup_enrol_begin(user_id=alice.pk)
        return stepup_enrol_confirm(user_id=alice.pk, code=code_for(device))

    for _round in range(10):
        TOTPDevice.objects.filter(user=alice).delete()
        stepup_enrol_begin(user_id=alice.pk)
        hers = TOTPDevice.objects.get(user=alice)
        start = threading.Barrier(2)
        results: dict[str, object] = {}

        def run(name, call, device, start, results):
            start.wait(10)
            try:
                results[name] = call(device)
            except ConsentError as error:
                results[name] = error
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=run, args=(name, call, hers, start, results))
            for name, call in (("hers", her_confirmation), ("theirs", their_enrolment))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

        if isinstance(results["hers"], TOTPDevice):
            assert _devices(alice) == [(hers.pk, True)], results


def test_a_pending_app_begun_without_proof_is_not_confirmed_over_an_app_set_up_since(alice, enrolled):
    # A pending device with no record of proof (begun before this rule, or in the window above on an
    # older version) next to a confirmed app: confirming it is refused and changes nothing.
    from consent.exceptions import StepUpProofRequired

    unproven = TOTPDevice.objects.create(user=alice, name=enrolled.name, confirmed=False)

    with pytest.raises(StepUpProofRequired, match="start again and enter a code from that app or your account"):
        stepup_enrol_confirm(user_id=alice.pk, code=code_for(unproven))

    assert _devices(alice) == [(enrolled.pk, True), (unproven.pk, False)]
    assert AuditEvent.objects.get(action="consent.stepup_replacement_refused").data["reason"] == "no_proof"
    assert not AuditEvent.objects.filter(action="consent.stepup_enrolled", target_id=str(unproven.pk)).exists()


def test_a_refused_attempt_to_replace_the_app_is_in_the_customers_activity(alice_client, alice, enrolled):
    # Someone with the customer's session trying passwords to swap the authenticator left no trace the
    # account holder could see, while a wrong verification code is listed ("An authenticator code was refused").
    alice_client.post("/settings/step-up/enrol/", {}, follow=True)
    alice_client.post("/settings/step-up/enrol/", {"password": "guess-1"}, follow=True)

    page = alice_client.get("/settings/").content.decode()

    assert "A request to replace your authenticator app was refused: the password was wrong" in page
    assert "A request to replace your authenticator app was refused: no code from your app and no password" in page
    assert "guess-1" not in page
