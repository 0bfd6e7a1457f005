"""Named domain errors of the consent app. consent.api maps them to HTTP status and JSON once.

Each carries a `message` a person understands; the settings page shows it as is.
"""

from __future__ import annotations


class ConsentError(Exception):
    """Base of every consent-app domain error."""

    code = "consent_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


# -- consent -------------------------------------------------------------------------------------


class ConsentDenied(ConsentError):
    """The customer has not (or no longer) allowed this; `reason` says why: revoked, expired, missing."""

    code = "consent_denied"
    reason = "missing"

    def __init__(self, message: str, *, scope: str, grant_id: int | None = None) -> None:
        super().__init__(message, scope=scope, grant_id=grant_id, reason=self.reason)
        self.scope = scope
        self.grant_id = grant_id


class ConsentMissing(ConsentDenied):
    code = "consent_missing"
    reason = "missing"


class ConsentRevoked(ConsentDenied):
    code = "consent_revoked"
    reason = "revoked"


class ConsentExpired(ConsentDenied):
    code = "consent_expired"
    reason = "expired"


class InvalidGrant(ConsentError):
    """A grant that cannot be given as asked (an expiry in the past)."""

    code = "invalid_grant"


class GrantNotActive(ConsentError):
    """A transition the grant's status does not allow (revoking a revoked grant is not this: that is a no-op)."""

    code = "grant_not_active"


# -- caps and spend ------------------------------------------------------------------------------


class CapAboveCeiling(ConsentError):
    code = "cap_above_ceiling"


class SpendCapExceeded(ConsentError):
    """A reservation would take used spend over a cap; `cap` names which (per_order, per_day, …)."""

    code = "spend_cap_exceeded"

    def __init__(
        self, message: str, *, cap: str, limit: int, used: int, requested: int, currency: str, policy_version: str = ""
    ) -> None:
        super().__init__(
            message,
            cap=cap,
            limit=limit,
            used=used,
            requested=requested,
            currency=currency,
            policy_version=policy_version,
        )
        self.policy_version = policy_version
        self.cap = cap
        self.limit = limit
        self.used = used
        self.requested = requested
        self.currency = currency


class SpendCurrencyMismatch(ConsentError):
    code = "spend_currency_mismatch"


class SpendReservationNotFound(ConsentError):
    code = "spend_reservation_not_found"


class SpendReservationConflict(ConsentError):
    """The flow reference is already used by a different reservation (another customer or amount)."""

    code = "spend_reservation_conflict"


class SpendReservationSettled(ConsentError):
    """Committing a released reservation, or releasing a committed one."""

    code = "spend_reservation_settled"


class SpendCommitExceedsReservation(ConsentError):
    code = "spend_commit_exceeds_reservation"


# -- payment methods and addresses ---------------------------------------------------------------


class InvalidPaymentMethod(ConsentError):
    code = "invalid_payment_method"


class InvalidAddress(ConsentError):
    code = "invalid_address"


class PaymentMethodNotAtMerchant(InvalidPaymentMethod):
    """The merchant does not confirm that this vault reference is one of this customer's cards."""

    code = "payment_method_not_found_at_merchant"


class MerchantAccountMissing(InvalidPaymentMethod):
    """We do not know who the customer is at this merchant, so no card of theirs can be confirmed."""

    code = "merchant_account_missing"


class MerchantVaultUnavailable(ConsentError):
    """The merchant could not be asked about the card just now (down, timing out); nothing was saved."""

    code = "merchant_vault_unavailable"


# -- step-up -------------------------------------------------------------------------------------


class StepUpNotEnrolled(ConsentError):
    code = "stepup_not_enrolled"


class StepUpInvalidCode(ConsentError):
    code = "stepup_invalid_code"


class StepUpThrottled(ConsentError):
    code = "stepup_throttled"


class StepUpProofRequired(ConsentError):
    """Replacing a confirmed authenticator needs its current code or the account password."""

    code = "stepup_proof_required"


class StepUpProofInvalid(ConsentError):
    """The current code or the password given to replace the authenticator is wrong."""

    code = "stepup_proof_invalid"
