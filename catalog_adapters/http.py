"""The one HTTP base every merchant adapter sends through.

Per logical call (`MerchantHttpClient.request`): our outbound rate limit, the circuit breaker, explicit
connect/read timeouts, retries with bounded exponential backoff and full jitter for network errors,
5xx, 429 and 409 `idempotency_in_flight` only (honouring `Retry-After` up to a cap), an
`Idempotency-Key` on every POST that is the same on every retry of that call, errors normalized into
catalog_adapters.errors, and on every attempt `X-Trace-ID`, `Accept-Language`, a fresh `Request-Id`, a
metric sample and one log line. See docs/merchant-integration.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import random
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import certifi
import urllib3
from django.conf import settings
from django.utils.translation import to_locale
from requests.utils import DEFAULT_ACCEPT_ENCODING, get_environ_proxies, select_proxy
from urllib3.exceptions import HTTPError as TransportError

from catalog_adapters import metrics
from catalog_adapters.breaker import CircuitBreaker, Permit
from catalog_adapters.errors import (
    MerchantCircuitOpen,
    MerchantClientError,
    MerchantError,
    MerchantIdInvalid,
    MerchantNetworkError,
    MerchantRateLimited,
    MerchantServerError,
)
from catalog_adapters.ratelimit import OutboundRateLimiter, RateLimitTimeout
from config.deadline import timeout_capped
from config.tracing import TRACE_HEADER, get_trace_id, new_trace_id

if TYPE_CHECKING:
    from catalog_adapters.registry import MerchantConfig

_TOKEN_IN_PATH = re.compile(r"vt_[A-Za-z0-9]+")
# The only ids we put into a URL path: letters, digits, '_' and '-'. Merchants' ids (cs_..., ord_...,
# vt_..., prod_<slug>, cus_...) fit; anything else ('../', '/', '?', '%2F', spaces, unicode) could
# address another resource than the one meant, so it is refused before a request is built.
SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
# Every path we send is made of such segments (fixed endpoint names included).
_SAFE_PATH = re.compile(r"(?:/[A-Za-z0-9_-]+)+/?")
logger = logging.getLogger("catalog_adapters.http")

USER_AGENT = "ordering-assistant/1 (catalog_adapters)"
# 409 with this code means "your first request with this key is still running": wait, then ask again.
IN_FLIGHT_CODE = "idempotency_in_flight"


@dataclass(frozen=True)
class MerchantResponse:
    status: int
    data: Any
    headers: Mapping[str, str] = field(repr=False)
    attempts: int
    request_id: str
    idempotency_key: str | None = None

    @property
    def replayed(self) -> bool:
        return self.headers.get("Idempotent-Replayed", "").lower() == "true"


# Called after a network error (outcome unknown) before the retry: returns the call's result if a
# read shows the merchant already did it, else None to go on retrying with the same key.
UnknownOutcomeResolver = Callable[[], MerchantResponse | None]


def idempotency_key_for(merchant_id: str, operation: str, operation_id: str) -> str:
    """The Idempotency-Key of a logical call: a function of who asks what, never random per attempt."""
    return hashlib.sha256(f"{merchant_id}\x1f{operation}\x1f{operation_id}".encode()).hexdigest()


SIGNATURE_HEADER = "Signature"
TIMESTAMP_HEADER = "Timestamp"


def request_signature(*, key: str, timestamp: str, body: str | None) -> str:
    """ACP request signing: base64url (unpadded) HMAC-SHA256 over f"{Timestamp}.{canonical JSON body}".

    The body is the exact bytes sent (compact, sorted-key JSON: canonical); a GET signs the empty body.
    The same timestamp-dot-body form as the merchants' webhook signatures (Merchant-Signature).
    """
    payload = f"{timestamp}.".encode() + (body or "").encode()
    digest = hmac.new(key.encode(), payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def accept_language() -> str:
    """The customer's language, as the `Accept-Language` of every request (rfc.agentic_checkout §3.1, RECOMMENDED;
    delegate_payment and delegate_authentication take it too), so the merchant writes its messages in it.

    The assistant speaks one language, `settings.LANGUAGE_CODE`, and nothing records another one for a customer
    (no profile field, no widget setting, no LocaleMiddleware): that is the language the customer reads, sent as a
    BCP 47 tag ("en-us" -> "en-US", "zh-hans" -> "zh-Hans").
    """
    return _language_tag(settings.LANGUAGE_CODE)


@lru_cache(maxsize=8)
def _language_tag(language_code: str) -> str:
    return to_locale(language_code).replace("_", "-")


def _rfc3339_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


@dataclass(frozen=True)
class _Failure:
    """An attempt that produced no response to return: its error, and whether to try again."""

    error: MerchantError
    retryable: bool = False


# What one attempt produced: a response to return, or a failure.
_Attempt = MerchantResponse | _Failure


def path_segment(value: object, *, merchant_id: str, operation: str) -> str:
    """An id checked against SAFE_ID, ready to go into a URL path; MerchantIdInvalid otherwise."""
    text = value if isinstance(value, str) else ""
    if not SAFE_ID.fullmatch(text):
        raise MerchantIdInvalid(
            f"refused to send the id {str(value)[:40]!r}: ids in a URL path may only hold letters, digits, '_' and '-'",
            merchant_id=merchant_id,
            operation=operation,
            value=str(value),
        )
    # Quoting is a no-op for the safe alphabet; it stays so that a wider alphabet later cannot forget it.
    return quote(text, safe="")


# What requests sent on every call besides our headers (its default headers): kept, so the wire is unchanged.
_TRANSPORT_HEADERS = {"Accept-Encoding": DEFAULT_ACCEPT_ENCODING, "Connection": "keep-alive"}


def transport_pool(base_url: str) -> tuple[urllib3.PoolManager, str | None, str]:
    """The connection pools for one merchant: (pool manager, proxy URL or None, CA bundle).

    The environment is read once, for this merchant's URL, the way requests reads it (HTTP(S)_PROXY,
    ALL_PROXY, NO_PROXY; REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, else certifi's bundle, as requests uses).
    """
    proxy = select_proxy(base_url, get_environ_proxies(base_url))
    ca_certs = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
    # Our own retry loop decides what is retried; urllib3 must never resend a POST on its own.
    options: dict[str, Any] = {
        "num_pools": 2,
        "maxsize": 20,
        "retries": False,
        "cert_reqs": "CERT_REQUIRED",
        "ca_certs": ca_certs,
    }
    if not proxy:
        return urllib3.PoolManager(**options), None, ca_certs
    if proxy.lower().startswith("socks"):
        from urllib3.contrib.socks import SOCKSProxyManager

        return SOCKSProxyManager(proxy, **options), proxy, ca_certs
    parsed = urllib3.util.parse_url(proxy)
    # Credentials in the proxy URL go as Proxy-Authorization, as requests sends them.
    headers = urllib3.util.make_headers(proxy_basic_auth=parsed.auth) if parsed.auth else None
    return urllib3.ProxyManager(proxy, proxy_headers=headers, **options), proxy, ca_certs


class MerchantHttpClient:
    def __init__(self, config: MerchantConfig) -> None:
        self.config = config
        self.merchant_id = config.id
        # urllib3 directly (requests' own transport): requests' per-call preparation and merging of settings
        # cost about 0.2 ms of CPU a request on top of urllib3's (docs/performance.md). Proxy and CA bundle are
        # read once from the environment, for this merchant's URL.
        self.pool, self.proxy_url, self.ca_certs = transport_pool(config.base_url)
        self.breaker = CircuitBreaker(config.id, threshold=config.breaker_threshold, cooldown=config.breaker_cooldown)
        self.rate_limiter = OutboundRateLimiter(
            config.id,
            per_second=config.rate_limit,
            max_wait=config.rate_limit_max_wait,
            burst=config.rate_limit_burst or None,
            lease=config.rate_limit_lease or None,
        )
        # Tests set this to record backoff delays; production sleeps for real.
        self.sleep: Callable[[float], None] = time.sleep

    def close(self) -> None:
        self.pool.clear()

    def send(
        self, method: str, url: str, *, body: bytes | None, headers: dict[str, str], timeout: urllib3.Timeout
    ) -> urllib3.BaseHTTPResponse:
        """One HTTP request on the pooled connections: no redirect followed, no retry of urllib3's own.

        Raises urllib3's HTTPError (timeouts, connection failures) or OSError; the body is read (and the
        connection back in its pool) on return. Tests and the bench wrap this to count merchant requests.
        """
        return self.pool.urlopen(
            method, url, body=body, headers=headers, timeout=timeout, redirect=False, retries=False
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
        operation_id: str | None = None,
        read_timeout: float | None = None,
        resolve_unknown: UnknownOutcomeResolver | None = None,
    ) -> MerchantResponse:
        """Send one logical call, retrying as the policy allows; a 2xx response or a MerchantError."""
        method = method.upper()
        if not _SAFE_PATH.fullmatch(path):
            # The second fence: a caller that built a path without path_segment sends nothing either.
            raise MerchantIdInvalid(
                f"refused to send the path {path[:80]!r}: it holds characters outside the safe alphabet",
                merchant_id=self.merchant_id,
                operation=operation,
                value=path,
            )
        idempotency_key = None
        if method == "POST":
            if not operation_id:
                raise ValueError(f"POST {operation} needs an operation_id to derive its Idempotency-Key")
            idempotency_key = idempotency_key_for(self.merchant_id, operation, operation_id)
        # Serialized once so that every retry sends byte-identical JSON under the same key.
        body = json.dumps(json_body, separators=(",", ":"), sort_keys=True) if json_body is not None else None
        trace_id = get_trace_id() or new_trace_id()
        # Delegated payment tokens are credentials; their ids stay out of log lines and metrics.
        context = {"operation": operation, "method": method, "path": _TOKEN_IN_PATH.sub("vt_[redacted]", path)}

        last_error: MerchantError | None = None
        attempt = 0
        while True:
            permit = self.breaker.acquire()
            if permit is None:
                # Mid-call, the earlier real failure says more (e.g. outcome unknown) than "circuit open".
                raise self._fail(last_error or self._circuit_open(operation, attempt), operation)
            try:
                self.rate_limiter.acquire()
            except RateLimitTimeout as timeout:
                self.breaker.release(permit)
                raise self._fail(
                    last_error
                    or MerchantRateLimited(
                        f"our outbound rate limit of {self.config.rate_limit}/s stayed full for {timeout.waited:.2f}s",
                        merchant_id=self.merchant_id,
                        operation=operation,
                        attempts=attempt,
                        retry_after=timeout.needed,
                    ),
                    operation,
                ) from None
            attempt += 1
            if attempt > 1:
                metrics.RETRIES.labels(self.merchant_id, operation).inc()
            result = self._attempt(
                method,
                path,
                params=params,
                body=body,
                idempotency_key=idempotency_key,
                trace_id=trace_id,
                read_timeout=read_timeout,
                attempt=attempt,
                permit=permit,
                context=context,
            )
            if isinstance(result, MerchantResponse):
                return result
            last_error = result.error
            if last_error.outcome_unknown and resolve_unknown is not None:
                # Read before anything else, even when out of attempts: it may have worked.
                resolved = self._resolve(resolve_unknown, context)
                if resolved is not None:
                    return resolved
            if not result.retryable or attempt >= self.config.max_attempts:
                raise self._fail(last_error, operation)
            delay = self._backoff(attempt, last_error)
            if delay is None:
                raise self._fail(last_error, operation)
            self.sleep(delay)

    # -- one attempt ---------------------------------------------------------------------------

    def _attempt(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        body: str | None,
        idempotency_key: str | None,
        trace_id: str,
        read_timeout: float | None,
        attempt: int,
        permit: Permit,
        context: dict[str, str],
    ) -> _Attempt:
        operation = context["operation"]
        request_id = f"req_{uuid.uuid4().hex}"
        headers = {
            **_TRANSPORT_HEADERS,
            "Authorization": f"Bearer {self.config.token}",
            "API-Version": self.config.api_version,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Accept-Language": accept_language(),
            TRACE_HEADER: trace_id,
            "Request-Id": request_id,
        }
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.config.signing_key:
            # Fresh per attempt (the merchant bounds the clock skew); the key itself never leaves this line.
            timestamp = _rfc3339_now()
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = request_signature(key=self.config.signing_key, timestamp=timestamp, body=body)
        # A chat turn's deadline (config.deadline) caps both waits: the shop cannot hold a turn past it.
        capped = timeout_capped((self.config.connect_timeout, read_timeout or self.config.read_timeout))
        connect, read = capped if isinstance(capped, tuple) else (capped, capped)
        url = f"{self.config.base_url}{path}"
        # The query as requests encoded it: None left out, the rest form-encoded (quote_plus), lists repeated.
        query = urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True) if params else ""
        if query:
            url = f"{url}?{query}"
        started = time.monotonic()
        status = None
        try:
            raw = self.send(
                method,
                url,
                body=body.encode() if body is not None else None,
                headers=headers,
                timeout=urllib3.Timeout(connect=connect, read=read),
            )
            status = raw.status
            result = self._classify(
                raw, operation=operation, attempt=attempt, request_id=request_id, idempotency_key=idempotency_key
            )
        except (TransportError, OSError) as exc:
            result = _Failure(
                error=MerchantNetworkError(
                    f"{type(exc).__name__}: no answer from the merchant, the outcome is unknown",
                    merchant_id=self.merchant_id,
                    operation=operation,
                    attempts=attempt,
                    request_id=request_id,
                ),
                retryable=True,
            )
        duration = time.monotonic() - started

        error = result.error if isinstance(result, _Failure) else None
        if error is None or isinstance(error, MerchantClientError):
            self.breaker.record_success(permit)
        else:
            self.breaker.record_failure(permit)
        outcome = error.error_class if error else "ok"
        metrics.REQUEST_DURATION.labels(self.merchant_id, operation).observe(duration)
        metrics.REQUESTS.labels(self.merchant_id, operation, outcome).inc()
        logger.log(
            logging.INFO if error is None else logging.WARNING,
            "merchant.request",
            extra={
                "merchant": self.merchant_id,
                **context,
                "status": status,
                "attempt": attempt,
                "duration_ms": round(duration * 1000, 1),
                "error_class": error.error_class if error else None,
                "error_code": error.code if error else None,
                "request_id": request_id,
                "idempotency_key": idempotency_key,
                "probe": permit.probe,
            },
        )
        return result

    def _classify(
        self,
        raw: urllib3.BaseHTTPResponse,
        *,
        operation: str,
        attempt: int,
        request_id: str,
        idempotency_key: str | None,
    ) -> _Attempt:
        status = raw.status
        content = raw.data
        try:
            data = json.loads(content) if content else None
        except ValueError:  # UnicodeDecodeError is one
            data = None
        error_body = data if isinstance(data, dict) else {}
        code = error_body.get("code")

        def error(kind: type[MerchantError], message: str) -> MerchantError:
            return kind(
                message,
                merchant_id=self.merchant_id,
                operation=operation,
                status=status,
                attempts=attempt,
                request_id=request_id,
                code=code,
                param=error_body.get("param"),
                retry_after=retry_after_seconds(raw.headers.get("Retry-After")),
            )

        message = str(error_body.get("message") or raw.reason or f"HTTP {status}")
        if 200 <= status < 300:
            if content and data is None:
                # The merchant acted but we cannot read what it did: not retryable, surface it.
                return _Failure(error=error(MerchantServerError, "unreadable JSON in a 2xx answer"))
            return MerchantResponse(
                status=status,
                data=data,
                headers=raw.headers,
                attempts=attempt,
                request_id=request_id,
                idempotency_key=idempotency_key,
            )
        if 400 <= status < 500:
            retryable = status == 429 or (status == 409 and code == IN_FLIGHT_CODE)
            return _Failure(error=error(MerchantClientError, message), retryable=retryable)
        if status >= 500:
            return _Failure(error=error(MerchantServerError, message), retryable=True)
        # 1xx/3xx: we never follow redirects with a bearer token; treat as a broken merchant.
        return _Failure(error=error(MerchantServerError, f"unexpected HTTP {status}"))

    # -- policy --------------------------------------------------------------------------------

    def _backoff(self, attempt: int, error: MerchantError) -> float | None:
        """Seconds to wait before the next attempt, or None when we must not wait that long."""
        if error.retry_after is not None:
            if error.retry_after > self.config.retry_after_cap:
                # Waiting less than asked would only earn another refusal; the caller (a task) can
                # reschedule itself using error.retry_after.
                return None
            return error.retry_after
        ceiling = min(self.config.backoff_cap, self.config.backoff_base * (2 ** (attempt - 1)))
        return random.uniform(0, ceiling)  # noqa: S311 - full jitter, not security

    def _resolve(self, resolve_unknown: UnknownOutcomeResolver, context: dict[str, str]) -> MerchantResponse | None:
        try:
            return resolve_unknown()
        except MerchantError as exc:
            # Still unknown: the retry with the same key is the next safest move.
            logger.warning(
                "merchant.unknown_outcome.unresolved",
                extra={"merchant": self.merchant_id, **context, "error_class": exc.error_class},
            )
            return None

    def _circuit_open(self, operation: str, attempts: int) -> MerchantCircuitOpen:
        retry_in = self.breaker.retry_in()
        return MerchantCircuitOpen(
            f"the circuit breaker is open after repeated failures; nothing was sent (it half-opens in {retry_in:.1f}s)",
            merchant_id=self.merchant_id,
            operation=operation,
            attempts=attempts,
            # Read on refusal only (one more round trip): when a task that must not give up on a
            # refusal (the saga, its undo steps) should come back.
            retry_after=retry_in,
        )

    def _fail(self, error: MerchantError, operation: str) -> MerchantError:
        metrics.CALL_ERRORS.labels(self.merchant_id, operation, error.error_class).inc()
        if isinstance(error, MerchantCircuitOpen | MerchantRateLimited):
            logger.warning(
                "merchant.request.refused",
                extra={"merchant": self.merchant_id, "operation": operation, "error_class": error.error_class},
            )
        return error
