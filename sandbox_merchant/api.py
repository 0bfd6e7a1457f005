"""The sandbox merchant's HTTP API (docs/sandbox-merchant-wire.md): server-to-server JSON, bearer-authenticated.

Every request goes through `_serve`, which does the protocol in one place and in this order:
check the bearer token and API-Version, require an Idempotency-Key on POST, draw injected faults,
claim the idempotency key (replay / 422 / 409), run the handler, store the answer (never a 5xx),
echo Request-Id and Idempotency-Key, and record the request with its answer in the request log (one
INSERT; a request a fault holds on purpose is recorded before its wait, "still being answered", and
updated after it). Handlers are thin: parse, call one service or selector, return (status, body).
Domain errors become HTTP in `_error_response` only.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox_merchant import selectors, services, signing
from sandbox_merchant.errors import (
    CardInvalid,
    IdempotencyConflict,
    IdempotencyInFlight,
    IdempotencyKeyRequired,
    InvalidRequest,
    MethodNotAllowed,
    MissingApiVersion,
    NotFound,
    OrderConflict,
    SandboxError,
    SessionNotOpen,
    SignatureInvalid,
    Unauthorized,
    UnsupportedApiVersion,
    UnsupportedMediaType,
)
from sandbox_merchant.models import FaultKind
from sandbox_merchant.services import NO_FAULTS, DrawnFaults
from sandbox_merchant.wire import (
    locale_negotiate,
    parse_authentication_create_request,
    parse_checkout_request,
    parse_complete_request,
    parse_delegate_payment_request,
    parse_fault_header,
    parse_fault_request,
    parse_reason,
    parse_refund_request,
    rfc3339,
)

logger = logging.getLogger(__name__)

_ERROR_STATUS: dict[type[SandboxError], int] = {
    Unauthorized: 401,
    SignatureInvalid: 401,
    MissingApiVersion: 400,
    UnsupportedApiVersion: 400,
    IdempotencyKeyRequired: 400,
    CardInvalid: 422,
    InvalidRequest: 400,
    NotFound: 404,
    MethodNotAllowed: 405,
    SessionNotOpen: 405,
    IdempotencyInFlight: 409,
    OrderConflict: 409,
    IdempotencyConflict: 422,
    UnsupportedMediaType: 415,
}


def _error_body(error_type: str, code: str, message: str, param: str | None = None, **extra: object) -> dict:
    body = {"type": error_type, "code": code, "message": message, **extra}
    if param:
        body["param"] = param
    return body


# delegate_payment's Error `code` is an enum (schema.delegate_payment.json): a malformed request is
# `invalid_card` there, whatever field is wrong (the `param` still names it).
_DELEGATE_PAYMENT_CODES = {
    "invalid_card",
    "duplicate_request",
    "idempotency_conflict",
    "too_many_requests",
    "idempotency_key_required",
    "idempotency_in_flight",
}


_DELEGATE_AUTHENTICATION_CODES = {"invalid_card", "duplicate_request", "idempotency_conflict"}
# Who is asking and in which version: failures no delegate_authentication code names (its enum is about cards and
# duplicates). They keep the well-known codes of the sibling APIs (agentic_checkout's missing_api_version and
# unsupported_api_version, delegate_payment's unauthorized) rather than a misleading invalid_card
# (docs/sandbox-merchant-wire.md, "Inconsistencies").
_CALLER_ERRORS = (Unauthorized, SignatureInvalid, MissingApiVersion, UnsupportedApiVersion, UnsupportedMediaType)


def _failure_body(operation: str, error_type: str, code: str, message: str) -> dict:
    """A 5xx answer. The Error of delegate_payment and of delegate_authentication has a code enum with nothing for a
    failure of the server, so those answer its catch-all invalid_card, as for a malformed body; the `type`
    (processing_error, service_unavailable), the status and the message say what happened
    (docs/sandbox-merchant-wire.md, "Inconsistencies", 6). Checkout's code is implementation-defined: it keeps its
    own."""
    if operation in ("delegate_payment", "authenticate"):
        code = "invalid_card"
    return _error_body(error_type, code, message)


def _error_response(error: SandboxError, operation: str = "") -> tuple[int, dict, dict]:
    status = _ERROR_STATUS.get(type(error), 400)
    extra = {}
    headers = {}
    versions = list(settings.SANDBOX_MERCHANT_API_VERSIONS)
    if isinstance(error, UnsupportedApiVersion | MissingApiVersion) and operation != "authenticate":
        extra["supported_versions"] = versions
    if isinstance(error, IdempotencyInFlight):
        headers["Retry-After"] = "1"
    code = error.code
    message = error.message
    if operation == "delegate_payment" and isinstance(error, InvalidRequest) and code not in _DELEGATE_PAYMENT_CODES:
        code = "invalid_card"
    if operation == "authenticate":
        if isinstance(error, UnsupportedApiVersion | MissingApiVersion):
            # Its Error has no supported_versions (additionalProperties: false): the message names them.
            message = f"{message} Supported: {', '.join(versions)}."
        if isinstance(error, IdempotencyConflict):
            status = 409  # rfc.delegate_authentication §7: MUST be 409 (checkout and delegate_payment say 422)
        elif isinstance(error, IdempotencyInFlight):
            code = "duplicate_request"  # the same request again while the first still runs
        elif code not in _DELEGATE_AUTHENTICATION_CODES and not isinstance(error, _CALLER_ERRORS):
            # The enum has no "not found" or "missing": the closest is invalid_card; the message and param say more.
            code = "invalid_card"
    return status, _error_body("invalid_request", code, message, error.param, **extra), headers


@dataclass
class Call:
    """What a handler gets: the parsed body, the path ids, the drawn faults and the request itself."""

    request: HttpRequest
    body: dict
    path_ids: dict
    faults: DrawnFaults

    @property
    def locale(self) -> str:
        """The locale this answer is written in: the supported one the request's Accept-Language asks for most."""
        return _locale(self.request)

    @property
    def public_base_url(self) -> str:
        # Where this API is mounted: the root of its own server, or /sandbox-merchant/ inside ours (tests).
        mount = reverse("sandbox_merchant:checkout-sessions").removesuffix("checkout_sessions")
        return settings.SANDBOX_MERCHANT_PUBLIC_URL or self.request.build_absolute_uri(mount).rstrip("/")


Handler = Callable[[Call], tuple[int, dict]]


def _locale(request: HttpRequest) -> str:
    return locale_negotiate(request.headers.get("Accept-Language", ""), supported=settings.SANDBOX_MERCHANT_LOCALES)


def _bearer_token(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    token = token.strip()
    # Compare against every configured token in constant time, without stopping at the first match.
    matches = [hmac.compare_digest(token.encode(), known.encode()) for known in settings.SANDBOX_MERCHANT_API_TOKENS]
    return token if any(matches) else None


def _parse_body(request: HttpRequest) -> dict:
    if not request.body:
        return {}
    # The RFCs require `Content-Type: application/json` on a request with a body: anything else (a form, text, no
    # type at all) is 415 before it is read, whatever it holds. Parameters (charset) are allowed.
    if request.content_type != "application/json":
        raise UnsupportedMediaType(
            f"The body is sent as {request.content_type or 'no Content-Type'}; send JSON with "
            "Content-Type: application/json."
        )
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.", code="invalid_json")
    bad = _unstorable_text(body, "$")
    if bad is not None:
        raise InvalidRequest("Text may not contain NUL characters or unpaired surrogates.", param=bad)
    return body


def _unstorable_text(value: object, path: str) -> str | None:
    """The JSONPath of the first string (key or value) PostgreSQL cannot store as text, if any."""
    if isinstance(value, str):
        if "\x00" in value:
            return path
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            bad = _unstorable_text(key, path) or _unstorable_text(item, f"{path}.{key}")
            if bad is not None:
                return bad
    elif isinstance(value, list):
        for index, item in enumerate(value):
            bad = _unstorable_text(item, f"{path}[{index}]")
            if bad is not None:
                return bad
    return None


def _json(status: int, body: dict, headers: dict | None = None) -> HttpResponse:
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _serve(request: HttpRequest, operation: str, handler: Handler, path_ids: dict, *, faultable: bool) -> HttpResponse:
    started = time.monotonic()
    idempotency_key = request.headers.get("Idempotency-Key", "")
    entry = services.RequestLogEntry(
        method=request.method,
        path=request.path,
        query_string=request.META.get("QUERY_STRING", ""),
        trace_id=request.headers.get("X-Trace-ID", ""),
        request_id=request.headers.get("Request-Id", ""),
        idempotency_key=idempotency_key,
        operation=operation,
        received_at=timezone.now(),
        accept_language=request.headers.get("Accept-Language", ""),
    )
    state = {"faults": NO_FAULTS, "replayed": False, "log": entry, "idempotency": None}
    try:
        response = _process(request, operation, handler, path_ids, faultable=faultable, state=state)
    except Exception:
        logger.exception("sandbox_merchant.unhandled_error", extra={"operation": operation})
        response = _json(
            500, _failure_body(operation, "processing_error", "internal_error", "The sandbox merchant failed.")
        )
    # What the answer's texts (messages, errors) are written in, as asked by Accept-Language (RFC 9110 §8.5).
    response["Content-Language"] = _locale(request)
    if request.headers.get("Request-Id"):
        response["Request-Id"] = request.headers["Request-Id"]
    if idempotency_key:
        response["Idempotency-Key"] = idempotency_key
    # One write per request: the answered request in one INSERT (or, after a deliberate wait, the UPDATE of the
    # row written before it), with the answer of the Idempotency-Key it claimed, stored before the client reads it.
    services.received_request_finish(
        entry=entry,
        status=response.status_code,
        faults=state["faults"].names(),
        replayed=state["replayed"],
        duration_ms=round((time.monotonic() - started) * 1000),
        idempotency=state["idempotency"],
    )
    return response


def _process(
    request: HttpRequest, operation: str, handler: Handler, path_ids: dict, *, faultable: bool, state: dict
) -> HttpResponse:
    record_id = None
    try:
        if handler is _method_not_allowed:
            raise MethodNotAllowed(f"{request.method} is not allowed here.")
        bearer_token = _bearer_token(request)
        if bearer_token is None:
            raise Unauthorized()
        version = request.headers.get("API-Version")
        if not version:
            raise MissingApiVersion()
        if version not in settings.SANDBOX_MERCHANT_API_VERSIONS:
            raise UnsupportedApiVersion(f"API-Version {version} is not supported.")
        signing.request_signature_verify(request)
        idempotency_key = request.headers.get("Idempotency-Key", "")
        is_post = request.method == "POST"
        # delegate_authentication's Idempotency-Key is optional (its OpenAPI: required: false; RFC §7: SHOULD on
        # create); checkout and delegate_payment require one on every POST.
        key_optional = operation == "authenticate" and not idempotency_key
        if is_post and not key_optional and (not idempotency_key or len(idempotency_key) > 255):
            raise IdempotencyKeyRequired()
        body = _parse_body(request) if is_post else {}

        faults = NO_FAULTS
        if faultable:
            header = parse_fault_header(request.headers.get("Sandbox-Fault"))
            scope = idempotency_key or f"{request.method} {request.get_full_path()}"
            faults = services.fault_draw(
                operation=operation,
                context=lambda: selectors.fault_context(operation=operation, path_ids=path_ids, body=body),
                header=header,
                header_scope=scope,
            )
            state["faults"] = faults
        transport = _transport_fault(faults, operation)
        if transport is not None:
            return transport

        if is_post and idempotency_key:
            start = services.idempotency_begin(
                scope=services.idempotency_scope(bearer_token=bearer_token, method="POST", path=request.path),
                key=idempotency_key,
                fingerprint=services.request_fingerprint(body),
            )
            if start.is_replay:
                state["replayed"] = True
                return _json(start.replay_status, start.replay_body, {"Idempotent-Replayed": "true"})
            record_id = start.record_id

        for kind in (FaultKind.TIMEOUT, FaultKind.SLOW):
            if faults.has(kind):
                # On record before the wait: a client that gives up meanwhile finds it "still being answered".
                services.received_request_hold(entry=state["log"])
                time.sleep(faults.delay_seconds(kind))

        try:
            status, payload = handler(Call(request=request, body=body, path_ids=path_ids, faults=faults))
        except SandboxError as error:
            status, payload, headers = _error_response(error, operation)
            if record_id is not None:
                _answer_keep(state, record_id=record_id, status=status, body=payload)
                record_id = None
            return _json(status, payload, headers)
        if record_id is not None:
            if faults.has(FaultKind.TIMEOUT_AFTER_COMMIT):
                # Stored before the deliberate wait: a retry during it is answered from the record.
                services.idempotency_complete(record_id=record_id, status=status, body=payload)
            else:
                _answer_keep(state, record_id=record_id, status=status, body=payload)
            record_id = None
        if faults.has(FaultKind.TIMEOUT_AFTER_COMMIT):
            # Done and stored; the client that gives up now does not know that it worked.
            services.received_request_hold(entry=state["log"])
            time.sleep(faults.delay_seconds(FaultKind.TIMEOUT_AFTER_COMMIT))
        return _json(status, payload)
    except SandboxError as error:
        status, payload, headers = _error_response(error, operation)
        return _json(status, payload, headers)
    finally:
        if record_id is not None:
            # Reached only when the handler raised something unexpected (a 500): the key is released.
            services.idempotency_abandon(record_id=record_id)


def _answer_keep(state: dict, *, record_id: int, status: int, body: dict) -> None:
    """The claimed key's answer, stored by `_serve` with the request log's row (one statement on PostgreSQL)."""
    state["idempotency"] = services.IdempotencyAnswer(record_id=record_id, status=status, body=body)


def _transport_fault(faults: DrawnFaults, operation: str = "") -> HttpResponse | None:
    if faults.has(FaultKind.SERVER_ERROR):
        return _json(
            500, _failure_body(operation, "processing_error", "internal_error", "Injected fault: server_error.")
        )
    if faults.has(FaultKind.UNAVAILABLE):
        return _json(
            503,
            _failure_body(operation, "service_unavailable", "service_unavailable", "Injected fault: unavailable."),
            {"Retry-After": "1"},
        )
    if faults.has(FaultKind.RATE_LIMITED):
        retry_after = max(1, math.ceil(faults.delay_seconds(FaultKind.RATE_LIMITED)))
        # The checkout Error has no rate-limit type; delegate_payment's has (and its code enum).
        if operation == "delegate_payment":
            body = _error_body("rate_limit_exceeded", "too_many_requests", "Injected fault: rate_limited.")
        else:
            body = _error_body("service_unavailable", "rate_limited", "Injected fault: rate_limited.")
        return _json(429, body, {"Retry-After": str(retry_after)})
    return None


def _method_not_allowed(call: Call) -> tuple[int, dict]:
    raise MethodNotAllowed()


def route(*, faultable: bool = True, **methods: tuple[str, Handler]) -> Callable:
    """One URL, its methods: `route(GET=("get", handler), POST=("update", handler))`."""

    @csrf_exempt
    def view(request: HttpRequest, **path_ids: str) -> HttpResponse:
        if not settings.SANDBOX_MERCHANT_ENABLED:
            return _json(404, _error_body("invalid_request", "not_found", "The sandbox merchant is switched off."))
        if request.method not in methods:
            # Still recorded: the request log is of everything the sandbox received.
            response = _serve(request, "", _method_not_allowed, path_ids, faultable=False)
            response["Allow"] = ", ".join(methods)
            return response
        operation, handler = methods[request.method]
        return _serve(request, operation, handler, path_ids, faultable=faultable)

    return view


# -- handlers ----------------------------------------------------------------------------------------


def _with_locale(call: Call, session: dict) -> dict:
    # The session's `locale` (CheckoutSessionBase): the one its texts are in, negotiated for this request.
    return {**session, "locale": call.locale}


def checkout_create(call: Call) -> tuple[int, dict]:
    session = services.checkout_session_create(
        request=parse_checkout_request(call.body, creating=True), public_base_url=call.public_base_url
    )
    return 201, _with_locale(call, selectors.checkout_session_representation(session))


def checkout_update(call: Call) -> tuple[int, dict]:
    session = services.checkout_session_update(
        session_id=call.path_ids["session_id"], request=parse_checkout_request(call.body, creating=False)
    )
    return 200, _with_locale(call, selectors.checkout_session_representation(session))


def checkout_get(call: Call) -> tuple[int, dict]:
    return 200, _with_locale(call, selectors.checkout_session_detail(session_id=call.path_ids["session_id"]))


def checkout_complete(call: Call) -> tuple[int, dict]:
    session = services.checkout_session_complete(
        session_id=call.path_ids["session_id"], request=parse_complete_request(call.body), faults=call.faults
    )
    if getattr(session, "requires_3ds", False):
        # ACP: a complete the issuer wants authenticated answers 4XX requires_3ds; the session (GET) is
        # now authentication_required with its authentication_metadata.
        return 400, _error_body(
            "invalid_request",
            "requires_3ds",
            "The card issuer asks for 3-D Secure authentication; complete again with authentication_result.",
            "$.authentication_result",
        )
    return 200, _with_locale(call, selectors.checkout_session_representation(session))


def checkout_cancel(call: Call) -> tuple[int, dict]:
    session = services.checkout_session_cancel(session_id=call.path_ids["session_id"])
    return 200, _with_locale(call, selectors.checkout_session_representation(session))


def delegate_payment(call: Call) -> tuple[int, dict]:
    token = services.vault_token_create(request=parse_delegate_payment_request(call.body))
    return 201, {"id": token.id, "created": rfc3339(token.created_at), "metadata": token.metadata}


def delegate_payment_revoke(call: Call) -> tuple[int, dict]:
    return 200, services.vault_token_revoke(token_id=call.path_ids["token_id"])


def authentication_create(call: Call) -> tuple[int, dict]:
    challenge = services.issuer_challenge_create(
        request=parse_authentication_create_request(call.body), public_base_url=call.public_base_url
    )
    return 201, selectors.issuer_challenge_representation(challenge, public_base_url=call.public_base_url)


def authentication_authenticate(call: Call) -> tuple[int, dict]:
    """POST /delegate_authentication/{id}/authenticate: the sandbox's issuer skips the 3DS Method
    (fingerprint) step, so this answers the session as it stands (its challenge, or its result)."""
    if call.body.get("fingerprint_completion") not in ("Y", "N", "U"):
        raise InvalidRequest("fingerprint_completion must be Y, N or U.", param="$.fingerprint_completion")
    return authentication_get(call)


def authentication_get(call: Call) -> tuple[int, dict]:
    return 200, selectors.issuer_challenge_detail(
        authentication_session_id=call.path_ids["authentication_session_id"], public_base_url=call.public_base_url
    )


def _limit(raw: str | None) -> int:
    try:
        return min(max(int(raw or 20), 1), 100)
    except ValueError:
        raise InvalidRequest("limit must be an integer from 1 to 100.", param="limit") from None


def products_search(call: Call) -> tuple[int, dict]:
    query = call.request.GET
    products = selectors.product_search(
        q=query.get("q", ""),
        category=query.get("category", ""),
        colour=query.get("colour", "") or query.get("color", ""),
        size=query.get("size", ""),
        limit=_limit(query.get("limit")),
    )
    return 200, {"data": products}


def product_get(call: Call) -> tuple[int, dict]:
    return 200, selectors.product_detail(product_id=call.path_ids["product_id"])


def customer_get(call: Call) -> tuple[int, dict]:
    return 200, selectors.customer_detail(customer_id=call.path_ids["customer_id"])


def saved_items(call: Call) -> tuple[int, dict]:
    items = selectors.saved_items_list(
        customer_id=call.path_ids["customer_id"],
        kind=call.request.GET.get("kind") or None,
        since=call.request.GET.get("since") or None,
    )
    return 200, {"data": items}


def saved_products(call: Call) -> tuple[int, dict]:
    if not getattr(settings, "SANDBOX_MERCHANT_SAVED_PRODUCTS", True):
        # Tests switch the extension off to play a merchant without it: then it is an unknown path.
        raise NotFound("No such endpoint.")
    query = call.request.GET
    product_ids = [part.strip() for part in (query.get("product_ids") or "").split(",") if part.strip()]
    if len(product_ids) > 100:
        raise InvalidRequest("product_ids names at most 100 products.", param="product_ids")
    items = selectors.saved_products_list(
        customer_id=call.path_ids["customer_id"],
        kind=query.get("kind") or None,
        since=query.get("since") or None,
        product_ids=product_ids or None,
        limit=_limit(query.get("limit") or "10"),
    )
    return 200, {"data": items}


def customer_promotions(call: Call) -> tuple[int, dict]:
    include = call.request.GET.get("include") or ""
    if include not in ("", "public"):
        raise InvalidRequest("include must be 'public' or left out.", param="include")
    return 200, {
        "data": selectors.customer_promotions(
            customer_id=call.path_ids["customer_id"], include_public=include == "public"
        )
    }


def order_get(call: Call) -> tuple[int, dict]:
    return 200, selectors.order_detail(order_id=call.path_ids["order_id"])


def order_cancel(call: Call) -> tuple[int, dict]:
    order = services.order_cancel(order_id=call.path_ids["order_id"], reason=parse_reason(call.body))
    return 200, selectors.order_representation(order)


def order_refund(call: Call) -> tuple[int, dict]:
    order = services.order_refund(
        order_id=call.path_ids["order_id"], amount=parse_refund_request(call.body), reason=parse_reason(call.body)
    )
    return 200, selectors.order_representation(order)


def faults_list(call: Call) -> tuple[int, dict]:
    return 200, {"data": selectors.fault_rules_list()}


def faults_create(call: Call) -> tuple[int, dict]:
    rule = services.fault_rule_create(spec=parse_fault_request(call.body))
    return 201, selectors.fault_rule_representation(rule)


def faults_clear(call: Call) -> tuple[int, dict]:
    return 200, {"deleted": services.fault_rules_clear()}
