"""Every failure of a merchant call, normalized into a few named classes.

Callers branch on the class (or on `error_class`, the same name as a string for logs, metrics and
`FlowStep` rows), never on HTTP details:

- `MerchantClientError` (`client_error`): the merchant answered 4xx. Our request is wrong or not
  allowed; retrying the same request will not help (except 429 / 409 in flight, which the HTTP base
  already retried). `code` is the merchant's error code (`idempotency_conflict`, `not_found`, ...).
- `MerchantServerError` (`server_error`): the merchant answered 5xx, or a 2xx we cannot read. The
  merchant did not do it (ACP merchants never store 5xx answers), so a retry with the same
  Idempotency-Key is safe.
- `MerchantNetworkError` (`network_error`): timeout or connection failure. The outcome is UNKNOWN:
  the merchant may have done it. Resolve by reading (GET) before anything else; if a retry is needed,
  it must reuse the same Idempotency-Key.
- `MerchantCircuitOpen` (`circuit_open`) and `MerchantRateLimited` (`rate_limited`): we refused to
  send anything (the breaker is open, or our own outbound rate limit stayed full). Nothing happened
  at the merchant; `refused_locally` says so, and `retry_after` is when our side will let the call
  through again (the breaker's half-open time, or the limiter's next token).
"""

from __future__ import annotations


class MerchantError(Exception):
    """Base class. `attempts` counts HTTP requests actually sent for this logical call."""

    error_class = "merchant_error"

    def __init__(
        self,
        message: str,
        *,
        merchant_id: str,
        operation: str,
        status: int | None = None,
        code: str | None = None,
        param: str | None = None,
        attempts: int = 0,
        retry_after: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.merchant_id = merchant_id
        self.operation = operation
        self.status = status
        self.code = code
        self.param = param
        self.attempts = attempts
        self.retry_after = retry_after
        self.request_id = request_id

    @property
    def outcome_unknown(self) -> bool:
        """True when the merchant may have acted on the request although we got no answer."""
        return False

    # True when our own side refused to send anything (breaker open, outbound limit full): the merchant
    # saw nothing, so the refusal is no evidence about the merchant and must not use up a retry budget.
    refused_locally = False

    @property
    def retry_later(self) -> bool:
        """True when the same call (same operation_id) may succeed later: a task should reschedule it.

        Every class but a plain client_error; a 429 or a 409 in flight is a client_error that is
        still worth retrying later (use `retry_after` when set).
        """
        return True

    def __str__(self) -> str:
        parts = [f"{self.error_class} from merchant {self.merchant_id!r} on {self.operation}"]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.code:
            parts.append(f"code={self.code}")
        parts.append(f"attempts={self.attempts}")
        return f"{' '.join(parts)}: {self.message}"


class MerchantClientError(MerchantError):
    error_class = "client_error"

    @property
    def outcome_unknown(self) -> bool:
        # 409 idempotency_in_flight: our first request with this key is still running at the merchant.
        return self.status == 409 and self.code == "idempotency_in_flight"

    @property
    def retry_later(self) -> bool:
        return self.status == 429 or self.outcome_unknown


class MerchantIdInvalid(MerchantClientError):
    """An id we were about to put into a merchant URL path is outside the safe alphabet: nothing was sent.

    A client error (retrying the same id cannot help), raised before any request, so an id from a
    customer, the LLM or a merchant's own answer can never walk the path (`../`, `/`, `?`, `%2F`).
    """

    def __init__(self, message: str, *, merchant_id: str, operation: str, value: str) -> None:
        super().__init__(message, merchant_id=merchant_id, operation=operation, code="invalid_id")
        # Kept short and printable: the refused value ends up in logs and step rows.
        self.value = value[:40].encode("ascii", "backslashreplace").decode()


class MerchantRequestInvalid(MerchantClientError, ValueError):
    """What we were about to send would not be a valid ACP request (e.g. an `authenticated` outcome without
    its outcome_details): nothing was sent, and sending it again cannot help."""

    def __init__(self, message: str, *, merchant_id: str, operation: str, code: str = "invalid_request") -> None:
        super().__init__(message, merchant_id=merchant_id, operation=operation, code=code)


class PaymentHandlerUnavailable(MerchantClientError):
    """The merchant offers no payment handler this client can pay with: nothing was sent, nothing charged.

    Raised by checkout.complete before any request (and checked by the saga before a token is minted).
    `offered` lists the handler names the merchant advertised (capabilities.payment.handlers[].name).
    Retrying cannot help; the customer has to pay at the merchant's own checkout.
    """

    def __init__(self, message: str, *, merchant_id: str, operation: str, offered: tuple[str, ...] = ()) -> None:
        super().__init__(message, merchant_id=merchant_id, operation=operation, code="payment_handler_unavailable")
        self.offered = tuple(offered)


class MerchantServerError(MerchantError):
    error_class = "server_error"


class MerchantNetworkError(MerchantError):
    error_class = "network_error"

    @property
    def outcome_unknown(self) -> bool:
        return True


class MerchantCircuitOpen(MerchantError):
    """Our breaker for this merchant is open: nothing was sent. `retry_after`: seconds until it half-opens."""

    error_class = "circuit_open"
    refused_locally = True


class MerchantRateLimited(MerchantError):
    """Our own outbound limit for this merchant stayed full for longer than callers may wait: nothing was sent.

    Not the merchant's 429 (that one is a `MerchantClientError` with status 429).
    """

    error_class = "rate_limited"
    refused_locally = True


class UnknownMerchant(LookupError):
    """No merchant with this id is configured (settings.MERCHANTS)."""


class CapabilityNotSupported(Exception):
    """The merchant's wire API lacks this capability (e.g. a plain ACP merchant has no catalog)."""


class WebhookRejected(Exception):
    """A webhook delivery we refuse, answered with the spec's flat Error body once, in the receiver.

    `code` is our precise reason (for logs and metrics: `signature_stale`, `payload_invalid`...);
    `wire_code` and `status` are what the merchant reads (ACP 2026-04-17 webhook API: every signature
    problem is 401 `invalid_signature`, a body we cannot read is 400).
    """

    status = 400
    wire_code = "invalid_payload"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class WebhookSignatureInvalid(WebhookRejected):
    """Missing, malformed, wrong or stale Merchant-Signature (or no secret to check it with)."""

    status = 401
    wire_code = "invalid_signature"


class WebhookPayloadInvalid(WebhookRejected):
    """A validly signed body that is not an ACP webhook event."""
