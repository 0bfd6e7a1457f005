"""Named domain errors of the ordering app, each with the HTTP status the API answers it with
(config.errors.DomainError; config.api renders them all in one shape)."""

from __future__ import annotations

from config.errors import DomainError


class OrderingError(DomainError):
    code = "ordering_error"
    http_status = 409  # most of ordering's refusals: the order or conversation is not in a state for this


class FlowNotFound(OrderingError):
    """No such flow for this customer (another customer's flow is "not found", never "forbidden")."""

    code = "flow_not_found"
    http_status = 404


class InvalidFlowTransition(OrderingError):
    """A status change the transition table does not allow: a bug or a race, refused loudly."""

    code = "invalid_flow_transition"
    http_status = 409


class IdempotencyConflict(OrderingError):
    """An Idempotency-Key sent again with a different message: a retry must repeat its request exactly, so
    this is a client bug (a reused key), refused rather than answered with the first message's turn."""

    code = "idempotency_conflict"
    http_status = 422


class StalePreview(OrderingError):
    """The customer confirmed a preview that is no longer the current one."""

    code = "stale_preview"
    http_status = 409


class PreviewExpired(OrderingError):
    code = "preview_expired"
    http_status = 409


class FlowNotConfirmable(OrderingError):
    code = "flow_not_confirmable"
    http_status = 409


class AutoCheckoutNotAllowed(OrderingError):
    """An automatic confirmation the customer's grant does not cover (amount at or over the threshold)."""

    code = "auto_checkout_not_allowed"
    http_status = 409


class PreviewIncomplete(OrderingError):
    """The merchant's session cannot be previewed yet (no total, or an error message stands)."""

    code = "preview_incomplete"
    http_status = 409


class PaymentChallengeRefused(OrderingError):
    """A 3-D Secure result that does not prove anything for this order (bad signature, stale, not ours)."""

    code = "payment_challenge_refused"
    http_status = 400


class PaymentChallengeUsed(OrderingError):
    """The challenge's result was already used (or failed): a result counts once."""

    code = "payment_challenge_used"
    http_status = 409


class PaymentChallengeLimit(OrderingError):
    """Too many challenges opened for one payment attempt: a specialist takes over."""

    code = "payment_challenge_limit"
    http_status = 429


class AssistantNotAvailable(OrderingError):
    """The customer is not in the assistant's arm of the rollout (phase 0-2): the shop's checkout serves them."""

    code = "assistant_not_available"
    http_status = 403


class AssistantPaused(OrderingError):
    """The kill switch is on: the assistant takes no new orders (previews, confirmations) for now."""

    code = "assistant_paused"
    http_status = 409


class RolloutCeilingExceeded(OrderingError):
    """An order over the rollout phase's own limit (the beta's per-session ceiling, phase 0's sandbox only)."""

    code = "rollout_limit"
    http_status = 409
