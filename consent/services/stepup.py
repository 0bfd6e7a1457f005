"""Step-up: enrolling an authenticator app (TOTP) and verifying its codes.

Replacing a confirmed app needs proof of owning it (a code from it, or the account password); begin and
confirm both hold the customer's user row, so an unproven enrolment never replaces an app confirmed
meanwhile.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import ActorType, Outcome
from audit.services import Origin
from consent.exceptions import (
    StepUpInvalidCode,
    StepUpNotEnrolled,
    StepUpProofInvalid,
    StepUpProofRequired,
    StepUpThrottled,
)
from consent.models import SecurityNoticeKind, StepUpEnrolment, StepUpVerification
from consent.selectors import stepup_device
from consent.services.notices import security_notice_create
from consent.services.profile import consent_audit_record

STEPUP_DEVICE_NAME = "customer step-up"


def stepup_enrol_begin(
    *, user_id: int, current_code: str = "", password: str = "", origin: Origin | None = None
) -> TOTPDevice:
    """Start TOTP enrolment: a new unconfirmed device (replacing an earlier unconfirmed one).

    With a confirmed authenticator already set up, only its owner may start replacing it: the request
    must carry a code from the current app or the account password (someone holding a stolen session
    could otherwise put their own app in its place). Missing proof raises StepUpProofRequired, wrong
    proof StepUpProofInvalid; both are audited and change nothing. Wrong passwords count against the
    current device's throttle, like wrong codes. Whether proof was given is recorded with the new
    device (StepUpEnrolment): stepup_enrol_confirm lets only a proven one replace a confirmed app.
    """
    current = stepup_device(user_id=user_id, confirmed=True)
    if current is not None:
        _prove_authenticator_owner(user_id=user_id, device=current, code=current_code, password=password, origin=origin)
    with transaction.atomic():
        # Begin and confirm both hold the customer's row: an app confirmed between the check above and
        # here (the customer's own, in another tab) is seen now, and this unproven begin is refused.
        get_user_model().objects.select_for_update().get(pk=user_id)
        now_current = stepup_device(user_id=user_id, confirmed=True)
        changed = now_current is not None and (current is None or now_current.pk != current.pk)
        if changed:
            refused = now_current
        else:
            TOTPDevice.objects.filter(user_id=user_id, name=STEPUP_DEVICE_NAME, confirmed=False).delete()
            device = TOTPDevice.objects.create(user_id=user_id, name=STEPUP_DEVICE_NAME, confirmed=False)
            StepUpEnrolment.objects.create(device=device, begun_with_proof=current is not None)
            consent_audit_record(
                "consent.stepup_enrolment_started",
                user_id=user_id,
                actor_type=ActorType.CUSTOMER,
                actor_id=user_id,
                target=device,
                data={"replacing": current is not None},
                origin=origin,
            )
    if changed:
        _replacement_refused(user_id=user_id, device=refused, reason="no_proof", origin=origin)
        raise StepUpProofRequired(
            "An authenticator app was just set up for your account. To replace it, enter a code from that app "
            "or your account password."
        )
    return device


def _replacement_refused(*, user_id: int, device: TOTPDevice, reason: str, origin: Origin | None) -> None:
    with transaction.atomic():
        consent_audit_record(
            "consent.stepup_replacement_refused",
            user_id=user_id,
            actor_type=ActorType.CUSTOMER,
            actor_id=user_id,
            target=device,
            data={"reason": reason},
            outcome=Outcome.DENIED,
            origin=origin,
        )


def _prove_authenticator_owner(
    *, user_id: int, device: TOTPDevice, code: str, password: str, origin: Origin | None
) -> None:
    if (code or "").strip():
        try:
            _check_code(device, code)
        except StepUpInvalidCode as error:
            _replacement_refused(user_id=user_id, device=device, reason="wrong_code", origin=origin)
            raise StepUpProofInvalid(
                f"{error.message} Use the app you set up before (or your password) to replace it."
            ) from None
        except StepUpThrottled:
            _replacement_refused(user_id=user_id, device=device, reason="throttled", origin=origin)
            raise
        return
    if password:
        allowed, info = device.verify_is_allowed()
        if not allowed:
            _replacement_refused(user_id=user_id, device=device, reason="throttled", origin=origin)
            locked_until = (info or {}).get("locked_until")
            seconds = max(int((locked_until - timezone.now()).total_seconds()) + 1, 1) if locked_until else 60
            raise StepUpThrottled(
                f"Too many wrong attempts. Wait {seconds} second{'s' if seconds != 1 else ''} and try again.",
                retry_after=seconds,
            )
        user = get_user_model().objects.get(pk=user_id)
        if not user.check_password(password):
            device.throttle_increment()
            _replacement_refused(user_id=user_id, device=device, reason="wrong_password", origin=origin)
            raise StepUpProofInvalid("That password is not right. Nothing was changed.")
        device.throttle_reset()
        return
    _replacement_refused(user_id=user_id, device=device, reason="no_proof", origin=origin)
    raise StepUpProofRequired(
        "You already have an authenticator app set up. To replace it, enter a code from that app or your "
        "account password."
    )


def _check_code(device: TOTPDevice, code: str) -> None:
    code = (code or "").strip().replace(" ", "")
    allowed, info = device.verify_is_allowed()
    if not allowed:
        # django-otp doubles the wait after each wrong code, which makes guessing 10^6 codes hopeless.
        locked_until = (info or {}).get("locked_until")
        seconds = max(int((locked_until - timezone.now()).total_seconds()) + 1, 1) if locked_until else 60
        raise StepUpThrottled(
            f"Too many wrong codes. Wait {seconds} second{'s' if seconds != 1 else ''} and try again.",
            retry_after=seconds,
        )
    if not code.isdigit() or len(code) != device.digits:
        raise StepUpInvalidCode(f"Enter the {device.digits}-digit code your authenticator app shows.")
    # verify_token saves the device (throttle counter, last used step), so it runs outside any
    # transaction that the failure would roll back.
    if not device.verify_token(code):
        raise StepUpInvalidCode("That code is not right (or was already used). Try the next one your app shows.")


def stepup_enrol_confirm(*, user_id: int, code: str, origin: Origin | None = None) -> TOTPDevice:
    """Finish enrolment with a code from the app.

    This is not a step-up verification: whoever holds the session can enrol an app of their own (when
    none is set up yet), so a freshly enrolled app vouches for nothing until a later code from it is
    checked by stepup_verify. The customer is e-mailed that an authenticator was set up.

    A device begun without proof (no app was set up then) is refused (StepUpProofRequired, audited)
    when an app has been confirmed since: in a race with the customer's own enrolment, an app begun
    by someone else holding the session must not later replace hers.
    """
    device = stepup_device(user_id=user_id, confirmed=False)
    if device is None:
        raise StepUpNotEnrolled("Start setting up your authenticator app first.")
    try:
        _check_code(device, code)
    except (StepUpInvalidCode, StepUpThrottled):
        with transaction.atomic():
            consent_audit_record(
                "consent.stepup_enrolment_failed",
                user_id=user_id,
                actor_type=ActorType.CUSTOMER,
                actor_id=user_id,
                target=device,
                outcome=Outcome.DENIED,
                origin=origin,
            )
        raise
    with transaction.atomic():
        # Holding the customer's row (as stepup_enrol_begin does), re-read what is set up now.
        get_user_model().objects.select_for_update().get(pk=user_id)
        device = TOTPDevice.objects.filter(pk=device.pk, confirmed=False).first()
        if device is None:
            raise StepUpNotEnrolled("Start setting up your authenticator app again: this one was replaced.")
        others_confirmed = (
            TOTPDevice.objects.filter(user_id=user_id, name__startswith=STEPUP_DEVICE_NAME, confirmed=True)
            .exclude(pk=device.pk)
            .exists()
        )
        proven = StepUpEnrolment.objects.filter(device=device, begun_with_proof=True).exists()
        if others_confirmed and not proven:
            # Begun with no app set up (so with no proof), and an app was confirmed since: this one may
            # not take its place. Whoever began it must start again, with that app's code or the password.
            # (A pending device deleted meanwhile and written back by django-otp's plain save() of its
            # throttle state has lost its StepUpEnrolment, so it counts as unproven too.)
            refused = device
        else:
            refused = None
            # One step-up device per customer: the newest replaces the old, and any other pending one goes
            # (a pending device started before this one was confirmed must not replace it later without proof).
            replaced = (
                TOTPDevice.objects.filter(user_id=user_id, name__startswith=STEPUP_DEVICE_NAME)
                .exclude(pk=device.pk)
                .delete()[0]
            )
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            consent_audit_record(
                "consent.stepup_enrolled",
                user_id=user_id,
                actor_type=ActorType.CUSTOMER,
                actor_id=user_id,
                target=device,
                data={"replaced": bool(replaced)},
                origin=origin,
            )
            security_notice_create(
                user_id=user_id,
                kind=SecurityNoticeKind.AUTHENTICATOR_ENROLLED,
                subject="An authenticator app was set up for your account",
                what="An authenticator app was set up for the extra verification of your orders",
                undo="set up your own app in its place there (your password lets you replace it)",
            )
    if refused is not None:
        _replacement_refused(user_id=user_id, device=refused, reason="no_proof", origin=origin)
        raise StepUpProofRequired(
            "An authenticator app is already set up for your account. To replace it, start again and enter a "
            "code from that app or your account password."
        )
    return device


def stepup_verify(*, user_id: int, code: str, origin: Origin | None = None) -> StepUpVerification:
    """Check a TOTP code and record the verification time that flows read (stepup_verified_within)."""
    device = stepup_device(user_id=user_id, confirmed=True)
    if device is None:
        raise StepUpNotEnrolled("You have not set up an authenticator app yet. Set it up on your settings page.")
    try:
        _check_code(device, code)
    except (StepUpInvalidCode, StepUpThrottled):
        with transaction.atomic():
            consent_audit_record(
                "consent.stepup_failed",
                user_id=user_id,
                actor_type=ActorType.CUSTOMER,
                actor_id=user_id,
                target=device,
                outcome=Outcome.DENIED,
                origin=origin,
            )
        raise
    with transaction.atomic():
        verification = StepUpVerification.objects.create(
            user_id=user_id, device=device, verified_at=timezone.now(), channel=origin.channel if origin else ""
        )
        consent_audit_record(
            "consent.stepup_verified",
            user_id=user_id,
            actor_type=ActorType.CUSTOMER,
            actor_id=user_id,
            target=device,
            origin=origin,
        )
    return verification
