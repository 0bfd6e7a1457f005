"""Named domain errors of the ordering app; the API layer maps them to HTTP once."""

from __future__ import annotations


class OrderingError(Exception):
    code = "ordering_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class FlowNotFound(OrderingError):
    """No such flow for this customer (another customer's flow is "not found", never "forbidden")."""

    code = "flow_not_found"


class InvalidFlowTransition(OrderingError):
    """A status change the transition table does not allow: a bug or a race, refused loudly."""

    code = "invalid_flow_transition"


class IdempotencyConflict(OrderingError):
    """An Idempotency-Key sent again with a different message: a retry must repeat its request exactly, so
    this is a client bug (a reused key), refused rather than answered with the first message's turn."""

    code = "idempotency_conflict"


class StalePreview(OrderingError):
    """The customer confirmed a preview that is no longer the current one."""

    code = "stale_preview"


class PreviewExpired(OrderingError):
    code = "preview_expired"


class FlowNotConfirmable(OrderingError):
    code = "flow_not_confirmable"


class AutoCheckoutNotAllowed(OrderingError):
    """An automatic confirmation the customer's grant does not cover (amount at or over the threshold)."""

    code = "auto_checkout_not_allowed"


class PreviewIncomplete(OrderingError):
    """The merchant's session cannot be previewed yet (no total, or an error message stands)."""

    code = "preview_incomplete"


class PaymentChallengeRefused(OrderingError):
    """A 3-D Secure result that does not prove anything for this order (bad signature, stale, not ours)."""

    code = "payment_challenge_refused"


class PaymentChallengeUsed(OrderingError):
    """The challenge's result was already used (or failed): a result counts once."""

    code = "payment_challenge_used"


class PaymentChallengeLimit(OrderingError):
    """Too many challenges opened for one payment attempt: a specialist takes over."""

    code = "payment_challenge_limit"


class AssistantNotAvailable(OrderingError):
    """The customer is not in the assistant's arm of the rollout (phase 0-2): the shop's checkout serves them."""

    code = "assistant_not_available"


class AssistantPaused(OrderingError):
    """The kill switch is on: the assistant takes no new orders (previews, confirmations) for now."""

    code = "assistant_paused"


class RolloutCeilingExceeded(OrderingError):
    """An order over the rollout phase's own limit (the beta's per-session ceiling, phase 0's sandbox only)."""

    code = "rollout_limit"
