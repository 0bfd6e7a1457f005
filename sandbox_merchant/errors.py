"""The sandbox merchant's named domain errors. api.py maps each to an HTTP status and a flat ACP error.

Business problems a buyer can act on (out of stock, a refused coupon, a declined card) are not
errors: they travel as `messages[]` inside a 2xx session. These are the protocol failures.
"""

from __future__ import annotations


class SandboxError(Exception):
    code = "invalid"
    default_message = "The request is invalid."

    def __init__(self, message: str | None = None, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.param = param
        if code:
            self.code = code


class InvalidRequest(SandboxError):
    code = "invalid"


class CardInvalid(SandboxError):
    """A well-formed card the sandbox cannot take (not one of its test numbers, expired, a month 13): 422, as the
    delegate_payment OpenAPI answers a semantic validation error."""

    code = "invalid_card"
    default_message = "The card cannot be used."


class UnsupportedMediaType(SandboxError):
    """A POST whose body is not declared as JSON (RFCs: `Content-Type: application/json`, REQUIRED with a body)."""

    code = "unsupported_media_type"
    default_message = "The request body must be JSON, sent with Content-Type: application/json."


class Unauthorized(SandboxError):
    code = "unauthorized"
    default_message = "A valid bearer token is required."


class MissingApiVersion(SandboxError):
    code = "missing_api_version"
    default_message = "The API-Version header is required."


class UnsupportedApiVersion(SandboxError):
    code = "unsupported_api_version"
    default_message = "This API-Version is not supported."


class IdempotencyKeyRequired(SandboxError):
    code = "idempotency_key_required"
    default_message = "Every POST needs an Idempotency-Key header of at most 255 characters."


class IdempotencyConflict(SandboxError):
    code = "idempotency_conflict"
    default_message = "This Idempotency-Key was used with a different request body."


class IdempotencyInFlight(SandboxError):
    code = "idempotency_in_flight"
    default_message = "A request with this Idempotency-Key is still being processed; retry shortly."


class NotFound(SandboxError):
    code = "not_found"
    default_message = "Not found."


class SessionNotOpen(SandboxError):
    """The session is completed, canceled or expired: it cannot change any more."""

    code = "invalid_state"
    default_message = "The checkout session can no longer be changed."


class OrderConflict(SandboxError):
    code = "conflict"
    default_message = "The order cannot change that way in its current status."


class MethodNotAllowed(SandboxError):
    code = "method_not_allowed"
    default_message = "This method is not allowed here."


class TransitionInvalid(Exception):
    """A programming error: a service tried a status change the transition table forbids."""


class SignatureInvalid(SandboxError):
    """Request signing is on (SANDBOX_MERCHANT_SIGNING_KEYS) and the Signature/Timestamp do not verify."""

    code = "invalid_signature"
    default_message = "Request signature verification failed."
