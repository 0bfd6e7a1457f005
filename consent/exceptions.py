"""Named domain errors of the consent app, each with the HTTP status the API answers it with
(config.errors.DomainError; config.api renders them in one shape).

Each carries a `message` a person understands; the settings page shows it as is.
"""

from __future__ import annotations

from config.errors import DomainError


class ConsentError(DomainError):
    """Base of every consent-app domain error."""

    code = "consent_error"
    http_status = 400


# -- consent -------------------------------------------------------------------------------------


class ConsentDenied(ConsentError):
    """The customer has not (or no longer) allowed this; `reason` says why: revoked, expired, missing."""

    code = "consent_denied"
    http_status = 403
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
    http_status = 400


class GrantNotActive(ConsentError):
    """A transition the grant's status does not allow (revoking a revoked grant is not this: that is a no-op)."""

    code = "grant_not_active"
    http_status = 409


# -- caps and spend ------------------------------------------------------------------------------


class CapAboveCeiling(ConsentError):
    code = "cap_above_ceiling"
    http_status = 400


class SpendCapExceeded(ConsentError):
    """A reservation would take used spend over a cap; `cap` names which (per_order, per_day, …)."""

    code = "spend_cap_exceeded"
    http_status = 409

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
    http_status = 400


class SpendReservationNotFound(ConsentError):
    code = "spend_reservation_not_found"
    http_status = 404


class SpendReservationConflict(ConsentError):
    """The flow reference is already used by a different reservation (another customer or amount)."""

    code = "spend_reservation_conflict"
    http_status = 409


class SpendReservationSettled(ConsentError):
    """Committing a released reservation, or releasing a committed one."""

    code = "spend_reservation_settled"
    http_status = 409


class SpendCommitExceedsReservation(ConsentError):
    code = "spend_commit_exceeds_reservation"
    http_status = 409


# -- payment methods and addresses ---------------------------------------------------------------


class InvalidPaymentMethod(ConsentError):
    code = "invalid_payment_method"
    http_status = 400


class InvalidAddress(ConsentError):
    code = "invalid_address"
    http_status = 400


class PaymentMethodNotAtMerchant(InvalidPaymentMethod):
    """The merchant does not confirm that this vault reference is one of this customer's cards."""

    code = "payment_method_not_found_at_merchant"


class MerchantAccountMissing(InvalidPaymentMethod):
    """We do not know who the customer is at this merchant, so no card of theirs can be confirmed."""

    code = "merchant_account_missing"


class WalletItemRemoved(ConsentError):
    """A change to one of the customer's own cards or addresses that was removed meanwhile (another tab, a
    second click). Answered like an object that is not there (404 `not_found`), with what happened to it."""

    code = "not_found"
    http_status = 404


class MerchantVaultUnavailable(ConsentError):
    """The merchant could not be asked about the card just now (down, timing out); nothing was saved."""

    code = "merchant_vault_unavailable"
    http_status = 503


# -- step-up -------------------------------------------------------------------------------------


class StepUpNotEnrolled(ConsentError):
    code = "stepup_not_enrolled"
    http_status = 409


class StepUpInvalidCode(ConsentError):
    code = "stepup_invalid_code"
    http_status = 400


class StepUpThrottled(ConsentError):
    code = "stepup_throttled"
    http_status = 429


class StepUpProofRequired(ConsentError):
    """Replacing a confirmed authenticator needs its current code or the account password."""

    code = "stepup_proof_required"
    http_status = 403


class StepUpProofInvalid(ConsentError):
    """The current code or the password given to replace the authenticator is wrong."""

    code = "stepup_proof_invalid"
    http_status = 403
