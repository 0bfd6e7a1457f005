"""Writes: checkout sessions and their stock, the vault, orders, webhooks, idempotency, faults, the request log.

Lock order, everywhere, to keep concurrent requests from deadlocking: the checkout session row
first, then the variants it touches in id order. Stock is reserved only while holding the
variants' row locks, so two sessions racing for the last unit queue up and the second sees the first.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Model, Sum
from django.utils import timezone
from django.utils.crypto import salted_hmac

from config.statements import hand_written_sql
from sandbox_merchant import compiled, selectors
from sandbox_merchant.errors import (
    CardInvalid,
    IdempotencyConflict,
    IdempotencyInFlight,
    InvalidRequest,
    NotFound,
    OrderConflict,
    SessionNotOpen,
    TransitionInvalid,
)
from sandbox_merchant.models import (
    CHECKOUT_TRANSITIONS,
    OPEN_CHECKOUT_STATUSES,
    ORDER_TRANSITIONS,
    AdjustmentType,
    CardBehaviour,
    ChallengePreference,
    CheckoutLine,
    CheckoutSession,
    CheckoutStatus,
    FaultKind,
    FaultOperation,
    FaultRule,
    IdempotencyRecord,
    IdempotencyState,
    IssuerChallenge,
    IssuerChallengeStatus,
    Order,
    OrderAdjustment,
    OrderStatus,
    ReceivedRequest,
    SavedItem,
    SavedItemKind,
    Variant,
    VaultCard,
    VaultToken,
    WebhookDelivery,
    WebhookStatus,
)
from sandbox_merchant.pricing import PricedInput, Quote, empty_cart_message, message, quote_lines
from sandbox_merchant.rules import (
    AUTHENTICATION_DETAILS,
    TokenFacts,
    address_complete,
    authentication_refusal,
    authentication_requested_message,
    card_brand_refused_message,
    card_declined_message,
    default_fulfillment_selection,
    fulfillment_messages,
    fulfillment_selection_covering,
    line_id,
    missing_for_payment,
    out_of_stock_message,
    price_change_message,
    ready_for_payment,
    request_changes,
    requested_lines,
    stored_quote,
    token_refusal,
    token_refused_message,
)
from sandbox_merchant.wire import (
    MISSING,
    AuthenticationCreateRequest,
    CheckoutRequest,
    CompleteRequest,
    DelegatePaymentRequest,
    FaultHeader,
    FaultSpec,
    PresentedCard,
    rfc3339,
)

logger = logging.getLogger(__name__)


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


# -- the request log ---------------------------------------------------------------------------------


@dataclass
class RequestLogEntry:
    """One received request on its way to the request log: written once, when it has been answered, in one
    INSERT with its status; or, for a request about to be held on purpose (a `timeout`/`slow` fault), inserted
    before the wait with no status ("still being answered", so a client that gave up finds it on record at once)
    and updated when it ends."""

    method: str
    path: str
    query_string: str
    trace_id: str
    request_id: str
    idempotency_key: str
    operation: str
    received_at: datetime
    accept_language: str = ""
    id: int | None = None

    def columns(self, **answer: object) -> dict[str, object]:
        return {
            "method": self.method,
            "path": self.path[:500],
            "query_string": self.query_string[:1000],
            "trace_id": self.trace_id[:128],
            "request_id": self.request_id[:255],
            "idempotency_key": self.idempotency_key[:255],
            "accept_language": self.accept_language[:255],
            "operation": self.operation,
            "received_at": self.received_at,
            **answer,
        }


def received_request_hold(*, entry: RequestLogEntry) -> None:
    """On record before a deliberate wait: the row without a status, once."""
    if entry.id is None:
        entry.id = compiled.insert(ReceivedRequest, **entry.columns(status=None, faults="", replayed=False))


@dataclass(frozen=True)
class IdempotencyAnswer:
    """A claimed key's answer, stored with the request log's row (`received_request_finish`)."""

    record_id: int
    status: int
    body: dict


def received_request_finish(
    *,
    entry: RequestLogEntry,
    status: int,
    faults: str,
    replayed: bool,
    duration_ms: int,
    idempotency: IdempotencyAnswer | None = None,
) -> None:
    """The answered request on record, and the answer of the key it claimed (if any) stored: on PostgreSQL in one
    autocommitted statement (a data-modifying WITH), elsewhere in two."""
    answer = {"status": status, "faults": faults[:200], "replayed": replayed, "duration_ms": duration_ms}
    if idempotency is not None and entry.id is None and hand_written_sql():
        entry.id = compiled.update_and_insert(
            IdempotencyRecord,
            idempotency.record_id,
            _idempotency_completion(idempotency),
            insert=ReceivedRequest,
            values=entry.columns(**answer),
        )
        return
    if idempotency is not None:
        idempotency_complete(record_id=idempotency.record_id, status=idempotency.status, body=idempotency.body)
    if entry.id is None:
        entry.id = compiled.insert(ReceivedRequest, **entry.columns(**answer))
    else:
        compiled.update(ReceivedRequest, entry.id, **answer)


# -- idempotency -------------------------------------------------------------------------------------


def _canonical_number(number: int | float) -> str:
    """One spelling per numeric value: 1, 1.0, 1.0e0 and 10E-1 are all "1"; 1.50 is "1.5"; 100 and 1e2 are "100"."""
    if isinstance(number, int):
        return str(number)  # exact at any size (Decimal.normalize would round past 28 digits)
    value = Decimal(repr(number))  # at most 17 significant digits: normalize is exact
    if not value.is_finite():
        return str(value)
    if value == 0:
        return "0"  # -0 and 0.000 too
    return format(value.normalize(), "f")


def _canonical_json(value: object) -> str:
    """The body in one spelling (rfc.agentic_checkout §6.2): keys sorted, no whitespace, equal numbers written alike.
    Arrays keep their order and null stays distinct from an absent key, as §6.2 requires."""
    if isinstance(value, dict):
        items = sorted(value.items())
        return (
            "{"
            + ",".join(f"{json.dumps(key, ensure_ascii=False)}:{_canonical_json(item)}" for key, item in items)
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(_canonical_json(item) for item in value) + "]"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _canonical_number(value)
    return json.dumps(value, ensure_ascii=False)


def request_fingerprint(body: dict) -> str:
    """Semantically equal JSON (key order, whitespace, the spelling of a number) gives the same fingerprint.

    Keyed (HMAC with the server's secret), not a bare hash: a delegate_payment body holds a card number and CVC,
    and a plain SHA-256 of a body whose other fields are known could be searched for them offline."""
    return salted_hmac("sandbox_merchant.idempotency", _canonical_json(body), algorithm="sha256").hexdigest()


def idempotency_scope(*, bearer_token: str, method: str, path: str) -> str:
    caller = hashlib.sha256(bearer_token.encode()).hexdigest()[:32]
    return f"{caller} {method} {path}"[:300]


@dataclass(frozen=True)
class IdempotencyStart:
    record_id: int | None = None
    replay_status: int | None = None
    replay_body: dict | None = None

    @property
    def is_replay(self) -> bool:
        return self.replay_status is not None


def idempotency_begin(*, scope: str, key: str, fingerprint: str) -> IdempotencyStart:
    """Claim the key before doing the work, committed, so a concurrent duplicate sees it in flight."""
    now = timezone.now()
    # Outside a transaction (a request) the INSERT commits on its own, in one round trip; inside one (a
    # caller's block), a savepoint keeps a duplicate key from spoiling it.
    claiming = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with claiming:
            record_id = compiled.insert(
                IdempotencyRecord,
                scope=scope,
                key=key,
                request_fingerprint=fingerprint,
                state=IdempotencyState.IN_FLIGHT,
                created_at=now,
            )
        return IdempotencyStart(record_id=record_id)
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if existing is None:
        # The holder answered 5xx and let the key go between our insert and this read: claim it again.
        return idempotency_begin(scope=scope, key=key, fingerprint=fingerprint)
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyConflict()
    if existing.state == IdempotencyState.COMPLETED:
        return IdempotencyStart(replay_status=existing.response_status, replay_body=existing.response_body)
    stale_before = now - timedelta(seconds=settings.SANDBOX_MERCHANT_IN_FLIGHT_STALE_SECONDS)
    if existing.created_at < stale_before:
        # The process that claimed it died mid-request; only one retry wins the takeover.
        taken = IdempotencyRecord.objects.filter(
            id=existing.id, state=IdempotencyState.IN_FLIGHT, created_at=existing.created_at
        ).update(created_at=now)
        if taken:
            return IdempotencyStart(record_id=existing.id)
    raise IdempotencyInFlight()


def _idempotency_completion(answer: IdempotencyAnswer) -> dict[str, Any]:
    return {
        "state": IdempotencyState.COMPLETED,
        "response_status": answer.status,
        "response_body": answer.body,
        "completed_at": timezone.now(),
    }


def idempotency_complete(*, record_id: int, status: int, body: dict) -> None:
    completion = _idempotency_completion(IdempotencyAnswer(record_id=record_id, status=status, body=body))
    compiled.update(IdempotencyRecord, record_id, **completion)


def idempotency_abandon(*, record_id: int) -> None:
    """A 5xx (or 429) is not an answer to keep: forget the key so a retry runs the request again."""
    IdempotencyRecord.objects.filter(id=record_id, state=IdempotencyState.IN_FLIGHT).delete()


def received_requests_forget_old(*, older_than_days: int = 7) -> int:
    deleted, _ = ReceivedRequest.objects.filter(
        received_at__lt=timezone.now() - timedelta(days=older_than_days)
    ).delete()
    return deleted


def idempotency_records_forget_expired(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SANDBOX_MERCHANT_IDEMPOTENCY_TTL_SECONDS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# -- faults ------------------------------------------------------------------------------------------

TRANSPORT_FAULTS = {FaultKind.SERVER_ERROR, FaultKind.UNAVAILABLE, FaultKind.RATE_LIMITED}
DELAY_FAULTS = {FaultKind.TIMEOUT, FaultKind.SLOW, FaultKind.TIMEOUT_AFTER_COMMIT}
COMPLETE_ONLY_FAULTS = {
    FaultKind.DECLINE,
    FaultKind.REQUIRES_3DS,
    FaultKind.OUT_OF_STOCK_AT_COMPLETE,
    FaultKind.PRICE_CHANGE,
    FaultKind.UNDERCHARGE_AT_COMPLETE,
    FaultKind.SUBSTITUTE_AT_COMPLETE,
}
DEFAULT_DELAY_MS = {FaultKind.TIMEOUT: 5000, FaultKind.TIMEOUT_AFTER_COMMIT: 5000, FaultKind.SLOW: 1000}


@dataclass(frozen=True)
class DrawnFaults:
    """The faults that fire on one request: kind -> delay in ms (None for "the default")."""

    kinds: dict[str, int | None] = field(default_factory=dict)

    def has(self, kind: str) -> bool:
        return kind in self.kinds

    def delay_seconds(self, kind: str) -> float:
        delay_ms = self.kinds.get(kind)
        return (DEFAULT_DELAY_MS.get(kind, 1000) if delay_ms is None else delay_ms) / 1000

    def names(self) -> str:
        return ",".join(sorted(self.kinds))


NO_FAULTS = DrawnFaults()


def _fault_applies(kind: str, operation: str) -> bool:
    return kind not in COMPLETE_ONLY_FAULTS or operation == FaultOperation.COMPLETE


def fault_rule_create(*, spec: FaultSpec) -> FaultRule:
    return FaultRule.objects.create(
        id=_new_id("flt"),
        kind=spec.kind,
        operation=spec.operation,
        customer_id=spec.customer_id,
        vault_reference=spec.vault_reference,
        times_remaining=spec.times,
        delay_ms=spec.delay_ms,
    )


def fault_rules_clear() -> int:
    deleted, _ = FaultRule.objects.all().delete()
    return deleted


def _fault_spend(rule: FaultRule) -> bool:
    """Use one of a counted rule's shots; False when another request took the last one first."""
    if rule.times_remaining is None:
        return True
    return bool(
        FaultRule.objects.filter(id=rule.id, times_remaining__gt=0).update(times_remaining=F("times_remaining") - 1)
    )


def fault_draw(
    *,
    operation: str,
    context: Callable[[], selectors.FaultContext],
    header: FaultHeader | None,
    header_scope: str,
) -> DrawnFaults:
    """`context` is called only when a rule is for one customer or card: finding who a request concerns takes a
    query, and almost every request meets no such rule."""
    drawn: dict[str, int | None] = {}
    rules = compiled.rows(
        FaultRule,
        ("fault_rules", operation),
        lambda: FaultRule.objects.filter(header_scope="", operation__in=[operation, FaultOperation.ANY]).exclude(
            times_remaining=0
        ),
    )
    concerns: selectors.FaultContext | None = None
    for rule in rules:
        if rule.customer_id or rule.vault_reference:
            concerns = concerns or context()
            if rule.customer_id and rule.customer_id != concerns.customer_id:
                continue
            if rule.vault_reference and rule.vault_reference != concerns.vault_reference:
                continue
        if not _fault_applies(rule.kind, operation) or rule.kind in drawn:
            continue
        if _fault_spend(rule):
            drawn[rule.kind] = rule.delay_ms
    if header is not None and _fault_applies(header.kind, operation):
        if header.times is None:
            drawn[header.kind] = header.delay_ms
        else:
            # `times` on a header counts the retries of one logical call (same key, or same GET).
            rule, _ = FaultRule.objects.get_or_create(
                header_scope=header_scope[:400],
                kind=header.kind,
                operation=operation,
                defaults={"id": _new_id("flt"), "times_remaining": header.times, "delay_ms": header.delay_ms},
            )
            if _fault_spend(rule):
                drawn[header.kind] = header.delay_ms
    return DrawnFaults(drawn)


# -- checkout sessions -------------------------------------------------------------------------------


def _session_set_status(session: CheckoutSession, status: str) -> None:
    if status != session.status and status not in CHECKOUT_TRANSITIONS[session.status]:
        raise TransitionInvalid(f"checkout session {session.id}: {session.status} -> {status}")
    session.status = status


def _session_lock(session_id: str) -> CheckoutSession:
    found = compiled.rows(
        CheckoutSession,
        "session_lock",
        lambda: CheckoutSession.objects.select_for_update().filter(id=compiled.text("id")).order_by()[:1],
        id=session_id,
    )
    session = found[0] if found else None
    if session is None:
        raise NotFound(f"No checkout session {session_id}.")
    return session


def _session_expire_if_lapsed(session_id: str) -> None:
    """Lapsed sessions are expired on first touch, in their own commit, before the change is refused."""
    with transaction.atomic():
        _session_expire_locked(_session_lock(session_id), now=timezone.now())


def _session_expire_locked(session: CheckoutSession, *, now: datetime) -> bool:
    """Expire the locked session if it lapsed (its stock goes back); True when it did."""
    if session.status in OPEN_CHECKOUT_STATUSES and session.expires_at <= now:
        _session_set_status(session, CheckoutStatus.EXPIRED)
        session.save(update_fields=["status", "updated_at"])
        CheckoutLine.objects.filter(session=session).update(reserved_quantity=0)
        return True
    return False


def _lock_variants(variant_ids: set[str]) -> dict[str, Variant]:
    # With their products (the quote reads them), in one statement; only the variants' rows are locked.
    ordered = sorted(variant_ids)
    if not ordered:
        return {}
    variants = compiled.rows(
        Variant,
        ("variants_lock", len(ordered)),
        lambda: (
            Variant.objects.select_for_update(of=("self",))
            .select_related("product")
            .filter(id__in=[compiled.text(f"v{index}") for index in range(len(ordered))])
            .order_by("id")
        ),
        **{f"v{index}": variant_id for index, variant_id in enumerate(ordered)},
    )
    return {variant.id: variant for variant in variants}


def _quote_session(session: CheckoutSession, lines: list[CheckoutLine], *, now: datetime) -> Quote:
    selected = session.selected_fulfillment_options or []
    return quote_lines(
        lines=[
            PricedInput(
                line_id=line_id(variant_id=line.variant_id),
                variant_id=line.variant_id,
                product_id=line.variant.product_id,
                title=line.variant.product.title,
                category=line.variant.product.category,
                colour=line.variant.colour,
                size=line.variant.size,
                quantity=line.quantity,
                unit_amount=line.unit_amount,
            )
            for line in lines
        ],
        currency=session.currency,
        customer_id=session.customer_id,
        codes=session.discount_codes or [],
        promotions=selectors.promotions_by_code(codes=session.discount_codes or []),
        address=(session.fulfillment_details or {}).get("address"),
        selected_option_id=selected[0]["option_id"] if selected else None,
        now=now,
    )


def _store_quote(session: CheckoutSession, quote: Quote) -> None:
    """The priced state the session answers, its selected option's item_ids naming the very lines priced."""
    session.quote = stored_quote(quote)
    session.quoted_total = quote.total
    session.selected_fulfillment_options = fulfillment_selection_covering(
        selected=session.selected_fulfillment_options, line_ids=[line.source.line_id for line in quote.lines]
    )


def _reserve(session: CheckoutSession, lines: list[CheckoutLine], variants: dict[str, Variant], *, now) -> list[dict]:
    """Reserve each line in full or not at all; lines beyond what is available get an out_of_stock message."""
    held = selectors.reserved_quantities(variant_ids=variants.keys(), now=now, exclude_session_id=session.id)
    messages = []
    for index, line in enumerate(lines):
        available = variants[line.variant_id].stock - held.get(line.variant_id, 0)
        if available >= line.quantity:
            line.reserved_quantity = line.quantity
            held[line.variant_id] = held.get(line.variant_id, 0) + line.quantity
        else:
            line.reserved_quantity = 0
            messages.append(out_of_stock_message(index=index, available=available, variant_id=line.variant_id))
    return messages


def _apply_request(session: CheckoutSession, request: CheckoutRequest) -> None:
    changes = request_changes(request=request)
    for name, value in changes.items():
        setattr(session, name, value)
    if "buyer" in changes:
        session.customer = selectors.customer_by_email(email=(request.buyer or {}).get("email"))


def _select_default_fulfillment(session: CheckoutSession, request: CheckoutRequest, lines: list[CheckoutLine]) -> None:
    """With a complete address and no option chosen yet, the first option (standard shipping) is selected,
    as in the spec's own create example; a client that wants it sends no second request to choose it."""
    if request.selected_fulfillment_options is not MISSING or session.selected_fulfillment_options:
        return
    if not address_complete(fulfillment_details=session.fulfillment_details):
        return
    variant_ids = [line.variant_id for line in lines]
    session.selected_fulfillment_options = default_fulfillment_selection(variant_ids=variant_ids)


_LINE_STATE = ("variant_id", "position", "quantity", "unit_amount", "reserved_quantity")


def _line_state(line: CheckoutLine) -> tuple:
    return tuple(getattr(line, name) for name in _LINE_STATE)


def _reprice_and_reserve(
    session: CheckoutSession, request: CheckoutRequest, *, existing: dict[str, CheckoutLine], now: datetime
) -> list[CheckoutLine]:
    """Apply a create/update request: replace lines when given, re-reserve, re-price, decide readiness.

    `existing` is the session's lines by variant (none for a new session). The lines are written here, only
    those that changed; a new session's own row must be written first (its lines refer to it)."""
    wanted = requested_lines(request=request, quantities={v: line.quantity for v, line in existing.items()})
    variants = _lock_variants({variant_id for variant_id, _ in wanted} | set(existing))
    for index, (variant_id, _) in enumerate(wanted):
        if variant_id not in variants:
            raise InvalidRequest(f"No variant {variant_id}.", param=f"$.line_items[{index}].id", code="not_found")

    wanted_ids = {variant_id for variant_id, _ in wanted}
    removed = [line.id for variant_id, line in existing.items() if variant_id not in wanted_ids]
    lines = []
    before = {}
    for position, (variant_id, quantity) in enumerate(wanted):
        variant = variants[variant_id]
        line = existing.get(variant_id) or CheckoutLine(session=session, variant=variant)
        if line.pk is not None:
            before[line.pk] = _line_state(line)
        line.variant = variant
        line.position = position
        line.quantity = quantity
        line.unit_amount = variant.price_amount
        lines.append(line)
    session.expires_at = now + timedelta(seconds=settings.SANDBOX_MERCHANT_SESSION_TTL_SECONDS)
    stock_messages = _reserve(session, lines, variants, now=now)
    _select_default_fulfillment(session, request, lines)
    quote = _quote_session(session, lines, now=now)
    _store_quote(session, quote)
    session.messages = (
        stock_messages
        + fulfillment_messages(
            fulfillment_details=session.fulfillment_details,
            # the request's own selection, so an unknown option it asked for (not taken) is named at its index
            selected=session.selected_fulfillment_options
            if request.selected_fulfillment_options is MISSING
            else request.selected_fulfillment_options,
        )
        + quote.messages
    )
    ready = ready_for_payment(
        fulfillment_details=session.fulfillment_details,
        selected=session.selected_fulfillment_options,
        messages=session.messages,
    )
    _session_set_status(session, CheckoutStatus.READY_FOR_PAYMENT if ready else CheckoutStatus.NOT_READY_FOR_PAYMENT)
    return _lines_write(lines, removed=removed, before=before)


def _lines_write(lines: list[CheckoutLine], *, removed: list[int], before: dict[int, tuple]) -> list[CheckoutLine]:
    """Deferred to the caller for a new session (whose row comes first): here for one that exists."""
    if removed:
        # Before the inserts: a line of the same variant may come back (one line per variant and session).
        CheckoutLine.objects.filter(id__in=removed).delete()
    for line in lines:
        if line.pk is not None and before[line.pk] != _line_state(line):
            line.save(update_fields=["variant", "position", "quantity", "unit_amount", "reserved_quantity"])
    return [line for line in lines if line.pk is None]


def checkout_session_create(*, request: CheckoutRequest, public_base_url: str) -> CheckoutSession:
    now = timezone.now()
    session_id = _new_id("cs")
    with transaction.atomic():
        session = CheckoutSession(
            id=session_id,
            status=CheckoutStatus.NOT_READY_FOR_PAYMENT,
            currency="usd",
            continue_url=f"{public_base_url}/checkout/{session_id}",
            expires_at=now + timedelta(seconds=settings.SANDBOX_MERCHANT_SESSION_TTL_SECONDS),
        )
        _apply_request(session, request)
        # Priced and reserved before anything is written: the session is one INSERT in its final state, its
        # lines one more.
        new_lines = _reprice_and_reserve(session, request, existing={}, now=now)
        session.save(force_insert=True)
        CheckoutLine.objects.bulk_create(new_lines)
    return session


def checkout_session_update(*, session_id: str, request: CheckoutRequest) -> CheckoutSession:
    now = timezone.now()
    # One lock of the session: a lapsed one is expired in this transaction, which commits before the refusal.
    with transaction.atomic():
        session = _session_lock(session_id)
        if not _session_expire_locked(session, now=now):
            if session.status not in OPEN_CHECKOUT_STATUSES:
                raise SessionNotOpen(f"The checkout session is {session.status}.")
            _apply_request(session, request)
            lines = compiled.rows(
                CheckoutLine,
                "session_lines",
                lambda: CheckoutLine.objects.filter(session_id=compiled.text("session")),
                session=session.id,
            )
            existing = {line.variant_id: line for line in lines}
            CheckoutLine.objects.bulk_create(_reprice_and_reserve(session, request, existing=existing, now=now))
            compiled.save(session)
            return session
    raise SessionNotOpen(f"The checkout session is {session.status}.")


def checkout_session_cancel(*, session_id: str) -> CheckoutSession:
    _session_expire_if_lapsed(session_id)
    with transaction.atomic():
        session = _session_lock(session_id)
        if session.status == CheckoutStatus.EXPIRED:
            # Nothing is held any more; "cancel" has already happened by itself.
            return session
        if session.status not in OPEN_CHECKOUT_STATUSES:
            raise SessionNotOpen(f"The checkout session is {session.status}; it cannot be canceled.")
        _session_set_status(session, CheckoutStatus.CANCELED)
        session.save(update_fields=["status", "updated_at"])
        CheckoutLine.objects.filter(session=session).update(reserved_quantity=0)
    return session


def checkout_sessions_expire(*, now: datetime | None = None) -> int:
    """The beat sweep: mark lapsed open sessions expired (their stock stopped counting at expires_at)."""
    now = now or timezone.now()
    expired = 0
    lapsed = CheckoutSession.objects.filter(status__in=OPEN_CHECKOUT_STATUSES, expires_at__lte=now)
    for session_id in lapsed.values_list("id", flat=True)[:500]:
        _session_expire_if_lapsed(session_id)
        expired += 1
    return expired


_PAYMENT_MESSAGE_CODES = {"payment_declined", "requires_3ds", "price_change"}


def _session_answer(session: CheckoutSession, *, status: str, extra_messages: list[dict]) -> CheckoutSession:
    session.messages = [m for m in session.messages if m["code"] not in _PAYMENT_MESSAGE_CODES] + extra_messages
    _session_set_status(session, status)
    compiled.save(session)
    return session


def checkout_session_complete(
    *, session_id: str, request: CompleteRequest, faults: DrawnFaults = NO_FAULTS
) -> CheckoutSession:
    now = timezone.now()
    # One lock of the session: a lapsed one is expired in this transaction, which commits before the refusal.
    with transaction.atomic():
        session = _session_lock(session_id)
        if not _session_expire_locked(session, now=now):
            return _session_complete_locked(session, request=request, faults=faults, now=now)
    raise SessionNotOpen(f"The checkout session is {session.status}; it cannot be completed.")


def _session_complete_locked(
    session: CheckoutSession, *, request: CompleteRequest, faults: DrawnFaults, now: datetime
) -> CheckoutSession:
    if session.status not in OPEN_CHECKOUT_STATUSES:
        raise SessionNotOpen(f"The checkout session is {session.status}; it cannot be completed.")
    if request.buyer is not None:
        # The final buyer, applied as an update would (the customer follows the e-mail): a change that moves the
        # price (a personal code that no longer applies) is then a price_change below, and nothing is charged.
        _apply_request(session, CheckoutRequest.only(buyer=request.buyer))
    # The lines with their variants, locked in variant id order (the lock order), and the variants' products
    # (the quote and the order read both), in one statement.
    lines = sorted(
        compiled.rows(
            CheckoutLine,
            "complete_lines_lock",
            lambda: (
                CheckoutLine.objects.select_for_update(of=("variant",))
                .select_related("variant__product")
                .filter(session_id=compiled.text("session"))
                .order_by("variant_id")
            ),
            session=session.id,
        ),
        key=lambda line: line.position,
    )
    variants = {line.variant_id: line.variant for line in lines}

    if faults.has(FaultKind.OUT_OF_STOCK_AT_COMPLETE):
        CheckoutLine.objects.filter(session=session).update(reserved_quantity=0)
        vanished = [
            message(
                type="error",
                code="out_of_stock",
                param=f"$.line_items[{index}]",
                content=f"{line.variant_id} sold out before the order could be placed; reservation released.",
            )
            for index, line in enumerate(lines)
        ]
        session.messages = [m for m in session.messages if m["code"] != "out_of_stock"]
        return _session_answer(session, status=CheckoutStatus.NOT_READY_FOR_PAYMENT, extra_messages=vanished)

    if session.status == CheckoutStatus.NOT_READY_FOR_PAYMENT:
        # Nothing to charge yet. The answer says what is missing (an address, a fulfillment option) as error messages
        # `missing`, unless its own errors (out of stock, an invalid address) already say why; the next create or
        # update recomputes the messages.
        if not any(item["type"] == "error" for item in session.messages):
            missing = missing_for_payment(
                fulfillment_details=session.fulfillment_details, selected=session.selected_fulfillment_options
            )
            return _session_answer(session, status=CheckoutStatus.NOT_READY_FOR_PAYMENT, extra_messages=missing)
        compiled.save(session)  # a buyer the complete carried
        return session
    if not lines:
        # Never payable (pricing.quote_lines keeps an empty session not_ready_for_payment); this holds a session
        # written ready without lines before that rule, too, before anything is charged.
        return _session_answer(
            session, status=CheckoutStatus.NOT_READY_FOR_PAYMENT, extra_messages=[empty_cart_message()]
        )

    if faults.has(FaultKind.PRICE_CHANGE):
        # The merchant really raises its price, as a live shop would between preview and order.
        for variant in variants.values():
            variant.price_amount = (variant.price_amount * 105 + 50) // 100
            variant.save(update_fields=["price_amount"])
    for line in lines:
        line.variant = variants[line.variant_id]
        line.unit_amount = line.variant.price_amount
    quote = _quote_session(session, lines, now=now)
    if quote.total != session.quoted_total:
        for line in lines:
            line.save(update_fields=["unit_amount"])
        _store_quote(session, quote)
        changed = price_change_message()
        return _session_answer(session, status=CheckoutStatus.READY_FOR_PAYMENT, extra_messages=[changed])

    if faults.has(FaultKind.UNDERCHARGE_AT_COMPLETE) or faults.has(FaultKind.SUBSTITUTE_AT_COMPLETE):
        quote = _misbehave(session, lines, faults, now=now)

    found = (
        compiled.rows(
            VaultToken,
            "token_lock",
            lambda: (
                VaultToken.objects.select_for_update()
                .select_related("card")
                .filter(id=compiled.text("id"))
                .order_by("pk")[:1]
            ),
            id=request.token,
        )
        if request.token
        else []
    )
    token = found[0] if found else None
    refusal = token_refusal(
        token=None
        if token is None
        else TokenFacts(
            revoked=token.revoked_at is not None,
            used=token.used_at is not None,
            expires_at=token.expires_at,
            checkout_session_id=token.checkout_session_id,
            card_customer_id=token.card.customer_id,
            merchant_id=token.merchant_id,
            currency=token.currency,
            max_amount=token.max_amount,
        ),
        session_id=session.id,
        customer_id=session.customer_id,
        currency=session.currency,
        total=quote.total,
        now=now,
    )
    if refusal:
        refused = token_refused_message(refusal=refusal)
        return _session_answer(session, status=CheckoutStatus.READY_FOR_PAYMENT, extra_messages=[refused])

    card: VaultCard = token.card
    brand_refused = card_brand_refused_message(brand=card.brand, last4=card.last4)
    if brand_refused is not None:
        return _session_answer(session, status=CheckoutStatus.READY_FOR_PAYMENT, extra_messages=[brand_refused])
    if faults.has(FaultKind.DECLINE) or card.behaviour == CardBehaviour.DECLINE:
        declined = card_declined_message(brand=card.brand, last4=card.last4)
        return _session_answer(session, status=CheckoutStatus.READY_FOR_PAYMENT, extra_messages=[declined])
    issuer_result = None
    mandated_by_card = card.behaviour == CardBehaviour.REQUIRES_3DS
    if (
        faults.has(FaultKind.REQUIRES_3DS)
        or mandated_by_card
        # Asked once, asked until answered (RFC 4.4): a session waiting for authentication is not paid without it.
        or session.status == CheckoutStatus.AUTHENTICATION_REQUIRED
    ):
        if request.authentication_outcome is None:
            # ACP: the session asks for authentication (authentication_metadata), and the complete
            # itself answers 400 requires_3ds (api.py), with that state committed.
            if mandated_by_card or session.status != CheckoutStatus.AUTHENTICATION_REQUIRED:
                session.authentication_challenge = (
                    ChallengePreference.MANDATED if mandated_by_card else ChallengePreference.PREFERRED
                )
            challenge = authentication_requested_message()
            session = _session_answer(
                session, status=CheckoutStatus.AUTHENTICATION_REQUIRED, extra_messages=[challenge]
            )
            session.requires_3ds = True
            return session
        # Unknown (a session that asked before the preference was kept) counts as mandated.
        mandated = mandated_by_card or session.authentication_challenge != ChallengePreference.PREFERRED
        issuer_result = _issuer_result_matching(session, request) if request.authenticated else None
        refusal = authentication_refusal(
            outcome=request.authentication_outcome, mandated=mandated, issuer_matched=issuer_result is not None
        )
        if refusal:
            failed = message(type="error", code="payment_declined", param="$.authentication_result", content=refusal)
            if session.status != CheckoutStatus.AUTHENTICATION_REQUIRED:
                session.authentication_challenge = (
                    ChallengePreference.MANDATED if mandated else ChallengePreference.PREFERRED
                )
            return _session_answer(session, status=CheckoutStatus.AUTHENTICATION_REQUIRED, extra_messages=[failed])

    placed = _charge_and_place_order(session, lines, quote, token, now=now)
    if issuer_result is not None:
        # An issuer's result pays once: a second complete cannot reuse it.
        issuer_result.used_at = now
        issuer_result.save(update_fields=["used_at"])
    return placed


def _misbehave(session: CheckoutSession, lines: list[CheckoutLine], faults: DrawnFaults, *, now: datetime) -> Quote:
    """What a misbehaving merchant does at complete, without a word in its answer: it charges 5 % less than it
    quoted (`undercharge_at_complete`: a sale it started that moment), or ships the first line's product in
    another variant at the same price (`substitute_at_complete`: a size or colour it had more of). Either way
    the order it places is not the one the buyer confirmed; a client must notice and undo it. Called under
    complete's locks; the lines and the stored quote change, so the session and order say what was sold."""
    if faults.has(FaultKind.UNDERCHARGE_AT_COMPLETE):
        for line in lines:
            line.unit_amount = line.unit_amount * 95 // 100
            line.save(update_fields=["unit_amount"])
    if faults.has(FaultKind.SUBSTITUTE_AT_COMPLETE) and lines:
        line = lines[0]
        other = (
            Variant.objects.select_for_update()
            .filter(product_id=line.variant.product_id, price_amount=line.unit_amount, stock__gte=line.quantity)
            .exclude(id=line.variant_id)
            .exclude(id__in=[each.variant_id for each in lines])
            .select_related("product")
            .order_by("id")
            .first()
        )
        if other is not None:
            line.variant = other
            line.save(update_fields=["variant"])
    quote = _quote_session(session, lines, now=now)
    _store_quote(session, quote)
    return quote


def _issuer_result_matching(session: CheckoutSession, request: CompleteRequest) -> IssuerChallenge | None:
    """The answered, unused challenge of this session whose recorded result the complete's outcome_details
    repeat, field for field (locked: a result pays once); None when the issuer gave no such result."""
    details = request.authentication_details or {}
    issued = (
        IssuerChallenge.objects.select_for_update()
        .filter(
            session=session,
            status=IssuerChallengeStatus.AUTHENTICATED,
            used_at__isnull=True,
            result__transaction_id=str(details.get("transaction_id", "")),
        )
        .first()
    )
    if issued is None:
        return None
    matches = [
        hmac.compare_digest(str(issued.result.get(name, "")).encode(), str(details.get(name, "")).encode())
        for name in AUTHENTICATION_DETAILS
    ]
    return issued if all(matches) else None


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model: type[Model], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)  # type: ignore[union-attr]


def _db_datetime(model: type[Model], name: str, value: datetime) -> Any:
    return model._meta.get_field(name).get_db_prep_save(value, connection)  # type: ignore[union-attr]


# Plain SQL that PostgreSQL and SQLite both run: only our own table and column names are interpolated.
def _token_spend_sql() -> str:
    used, revoked = _column(VaultToken, "used_at"), _column(VaultToken, "revoked_at")
    return (
        f"UPDATE {_table(VaultToken)} SET {used} = %s "  # noqa: S608
        f"WHERE {_column(VaultToken, 'id')} = %s AND {used} IS NULL AND {revoked} IS NULL"
    )


def _stock_take_sql() -> str:
    stock = _column(Variant, "stock")
    return f"UPDATE {_table(Variant)} SET {stock} = {stock} - %s WHERE {_column(Variant, 'id')} = %s AND {stock} >= %s"  # noqa: S608


def _reservations_release_sql() -> str:
    return (
        f"UPDATE {_table(CheckoutLine)} SET {_column(CheckoutLine, 'reserved_quantity')} = 0 "  # noqa: S608
        f"WHERE {_column(CheckoutLine, 'session')} = %s"
    )


_statements: dict[tuple[str, Callable[[], str]], str] = {}


def _execute(build: Callable[[], str], params: list[Any]) -> int:
    """Run the statement `build` writes (built once per database vendor); the number of rows it changed."""
    key = (connection.vendor, build)
    sql = _statements.get(key)
    if sql is None:
        sql = _statements[key] = build()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _purchases_save(customer_id: str, bought: list[tuple[str, str]], *, now: datetime) -> None:
    """The customer's purchased items, one per product (the last line's variant wins), in one upsert: what
    `bulk_create(update_conflicts=True, unique_fields=[customer, kind, product], update_fields=[variant, saved_at])`
    writes, on PostgreSQL and SQLite alike."""
    by_product = dict(bought)
    names = ("customer", "kind", "product", "variant", "saved_at")
    columns = ", ".join(_column(SavedItem, name) for name in names)
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(by_product))
    variant, saved_at = _column(SavedItem, "variant"), _column(SavedItem, "saved_at")
    unique = ", ".join(_column(SavedItem, name) for name in ("customer", "kind", "product"))
    sql = (
        f"INSERT INTO {_table(SavedItem)} ({columns}) VALUES {values} "  # noqa: S608
        f"ON CONFLICT ({unique}) DO UPDATE SET {variant} = EXCLUDED.{variant}, {saved_at} = EXCLUDED.{saved_at}"
    )
    moment = _db_datetime(SavedItem, "saved_at", now)
    params: list[Any] = []
    for product_id, variant_id in by_product.items():
        params += [customer_id, SavedItemKind.PURCHASED.value, product_id, variant_id, moment]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _charge_and_place_order(
    session: CheckoutSession, lines: list[CheckoutLine], quote: Quote, token: VaultToken, *, now: datetime
) -> CheckoutSession:
    # Called inside complete's transaction, holding the session, variant and token locks.
    # The writes of a placement, each a fixed statement written once (building them with the ORM cost more Python
    # than running them), in the same transaction and with the same conditions as before.
    spent = _execute(_token_spend_sql, [_db_datetime(VaultToken, "used_at", now), token.id])
    if not spent:
        raise TransitionInvalid(f"token {token.id} was spent while locked")
    for line in lines:
        sold = _execute(_stock_take_sql, [line.quantity, line.variant_id, line.quantity])
        if not sold:
            # A reservation guarantees the units; reaching this means the stock was edited by hand.
            raise TransitionInvalid(f"variant {line.variant_id} has fewer units than session {session.id} reserved")
    _execute(_reservations_release_sql, [session.id])
    order_id = _new_id("ord")
    base = session.continue_url.removesuffix(f"/checkout/{session.id}")
    order = compiled.create(
        Order,
        id=order_id,
        session=session,
        customer_id=session.customer_id,
        payment_token=token,
        currency=session.currency,
        total_amount=quote.total,
        line_items=session.quote["line_items"],
        totals=session.quote["totals"],
        permalink_url=f"{base}/orders/{order_id}",
    )
    if session.customer_id:
        # One upsert for every line (was a savepoint, a read and a write per line).
        _purchases_save(session.customer_id, [(line.variant.product_id, line.variant_id) for line in lines], now=now)
    _session_answer(session, status=CheckoutStatus.COMPLETED, extra_messages=[])
    # A new order has no adjustments yet, and the answer shows it without reading it back.
    order._prefetched_objects_cache = {"adjustments": []}
    session.placed_order = order
    _webhook_enqueue(order, event_type="order_create")
    return session


# -- the issuer's 3-D Secure challenge ---------------------------------------------------------------

# The simulated issuer asks for this one-time code (shown on its page: it is a sandbox).
ISSUER_CHALLENGE_CODE = "123456"
ISSUER_CHALLENGE_TTL = timedelta(minutes=10)
THREE_DS_VERSION = "2.2.0"


def issuer_challenge_create(*, request: AuthenticationCreateRequest, public_base_url: str) -> IssuerChallenge:
    """Open a challenge for a session that asked for authentication (ACP delegate_authentication, create)."""
    _session_expire_if_lapsed(request.checkout_session_id)
    session = CheckoutSession.objects.filter(id=request.checkout_session_id).first()
    if session is None:
        raise NotFound(f"No checkout session {request.checkout_session_id}.")
    if session.status != CheckoutStatus.AUTHENTICATION_REQUIRED:
        raise SessionNotOpen(f"The checkout session is {session.status}; it does not need authentication.")
    now = timezone.now()
    return IssuerChallenge.objects.create(
        id=_new_id("auth"),
        session=session,
        acs_trans_id=secrets.token_urlsafe(24),
        three_ds_server_trans_id=_new_id("3dss"),
        notification_url=request.challenge_notification_url,
        amount=session.quoted_total,
        currency=session.currency,
        expires_at=now + ISSUER_CHALLENGE_TTL,
    )


def issuer_challenge_answer(*, acs_trans_id: str, code: str, abandon: bool) -> IssuerChallenge:
    """The shopper answered the issuer's page: the right code authenticates, a wrong one or Cancel does not.

    Raises NotFound for an unknown challenge and SessionNotOpen when it was answered already or expired.
    """
    now = timezone.now()
    with transaction.atomic():
        challenge = IssuerChallenge.objects.select_for_update().filter(acs_trans_id=acs_trans_id).first()
        if challenge is None:
            raise NotFound("No such verification.")
        if challenge.status == IssuerChallengeStatus.ACTION_REQUIRED and challenge.expires_at <= now:
            challenge.status = IssuerChallengeStatus.EXPIRED
            challenge.save(update_fields=["status"])
            return challenge
        if challenge.status != IssuerChallengeStatus.ACTION_REQUIRED:
            raise SessionNotOpen(f"This verification is already {challenge.status.replace('_', ' ')}.")
        transaction_id = str(uuid.uuid4())
        if abandon:
            challenge.status = IssuerChallengeStatus.CHALLENGE_ABANDONED
        elif hmac.compare_digest(code.strip().encode(), ISSUER_CHALLENGE_CODE.encode()):
            challenge.status = IssuerChallengeStatus.AUTHENTICATED
            challenge.result = {
                "trans_status": "Y",
                "electronic_commerce_indicator": "05",
                "three_ds_cryptogram": base64.b64encode(secrets.token_bytes(20)).decode(),
                "transaction_id": transaction_id,
                "three_ds_server_trans_id": challenge.three_ds_server_trans_id,
                "version": THREE_DS_VERSION,
            }
        else:
            challenge.status = IssuerChallengeStatus.NOT_AUTHENTICATED
            challenge.result = {
                "trans_status": "N",
                "electronic_commerce_indicator": "07",
                "transaction_id": transaction_id,
                "three_ds_server_trans_id": challenge.three_ds_server_trans_id,
                "version": THREE_DS_VERSION,
                "trans_status_reason": "01",
                "cardholder_info": "The code did not match.",
            }
        challenge.answered_at = now
        challenge.save(update_fields=["status", "result", "answered_at"])
    return challenge


def issuer_challenge_return_url(*, challenge: IssuerChallenge, now: float | None = None) -> str:
    """Where the issuer sends the shopper back: the client's notification URL with a signed CRes.

    The CRes names the authentication session, the checkout session and the outcome; it is signed like
    the merchant's webhooks (HMAC-SHA256 with the webhook secret over `t.cres`), so the client knows the
    merchant sent it and when. The client then reads the full result from GET /delegate_authentication.
    """
    cres = {
        "messageType": "CRes",
        "messageVersion": THREE_DS_VERSION,
        "authentication_session_id": challenge.id,
        "checkout_session_id": challenge.session_id,
        "acsTransID": challenge.acs_trans_id,
        "threeDSServerTransID": challenge.three_ds_server_trans_id,
        "status": challenge.status,
    }
    encoded = base64.urlsafe_b64encode(json.dumps(cres, separators=(",", ":")).encode()).decode().rstrip("=")
    timestamp = int(time.time() if now is None else now)
    signature = webhook_signature(
        secret=settings.SANDBOX_MERCHANT_WEBHOOK_SECRET, timestamp=timestamp, raw_body=encoded.encode()
    )
    separator = "&" if "?" in challenge.notification_url else "?"
    query = urlencode({"cres": encoded, "signature": f"t={timestamp},v1={signature}"})
    return f"{challenge.notification_url}{separator}{query}"


# -- the payment vault -------------------------------------------------------------------------------


def vault_reference_draw() -> str:
    """The opaque part of a new vault reference: 20 random hex digits."""
    return secrets.token_hex(10)


def vault_reference_new() -> str:
    """A new vault reference, `pm_` and 20 random hex digits, never with a run of 13 digits in it.

    Our wallet refuses any reference with such a run as a possible card number
    (consent.models.no_card_number_validator), and about 1 draw in 125 has one: a typed card vaulted under it
    could not be saved, and its order was refused before any merchant call. Such a draw is drawn again."""
    from consent.models import no_card_number_validator

    while True:
        reference = f"pm_{vault_reference_draw()}"
        if not no_card_number_validator.regex.search(reference):
            return reference


def vault_card_keep(
    *, customer_id: str, brand: str, last4: str, exp_month: int, exp_year: int, behaviour: str
) -> VaultCard:
    """A test card into the vault for this customer, as the vault keeps one (brand, last four, expiry, behaviour;
    never the number or the CVC): the same card again is the same row, so a demo customer's saved card's number
    with its expiry names that saved card."""
    existing = (
        VaultCard.objects.filter(
            customer_id=customer_id,
            brand=brand,
            last4=last4,
            exp_month=exp_month,
            exp_year=exp_year,
            behaviour=behaviour,
        )
        .order_by("reference")
        .first()
    )
    if existing is not None:
        return existing
    return VaultCard.objects.create(
        reference=vault_reference_new(),
        customer_id=customer_id,
        brand=brand,
        last4=last4,
        exp_month=exp_month,
        exp_year=exp_year,
        behaviour=behaviour,
    )


def _vault_card_presented(request: DelegatePaymentRequest, card: PresentedCard) -> VaultCard:
    """The card a delegate_payment gave by its number, vaulted for the buyer of the checkout it is for: a vault card
    pays only for its holder's checkout (rules.token_refusal), and a typed card's holder is the buyer typing it."""
    customer_id = (
        CheckoutSession.objects.filter(id=request.checkout_session_id).values_list("customer_id", flat=True).first()
    )
    if customer_id is None:
        raise CardInvalid(
            "The sandbox vaults a card number for the buyer of one of its checkout sessions; this allowance names "
            "no session whose buyer it knows (create it with the buyer's email).",
            param="$.allowance.checkout_session_id",
        )
    return vault_card_keep(
        customer_id=customer_id,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        behaviour=card.behaviour,
    )


def vault_token_create(*, request: DelegatePaymentRequest) -> VaultToken:
    if request.presented is not None:
        card: VaultCard | None = _vault_card_presented(request, request.presented)
    else:
        found = compiled.rows(
            VaultCard,
            "vault_card",
            lambda: VaultCard.objects.filter(reference=compiled.text("reference")).order_by()[:1],
            reference=request.vault_reference,
        )
        card = found[0] if found else None
    if card is None:
        raise InvalidRequest(
            "No vault card with this reference.",
            param=request.vault_reference_param,
            code="not_found",
        )
    return compiled.create(
        VaultToken,
        id=_new_id("vt"),
        card=card,
        max_amount=request.max_amount,
        currency=request.currency,
        checkout_session_id=request.checkout_session_id,
        merchant_id=request.merchant_id,
        expires_at=request.expires_at,
        metadata=request.metadata,
    )


def vault_token_revoke(*, token_id: str) -> dict:
    """Idempotent: an unknown or already revoked token is revoked as far as anyone can tell."""
    with transaction.atomic():
        token = VaultToken.objects.select_for_update().filter(id=token_id).first()
        if token is not None and token.used_at is not None:
            return {"id": token_id, "revoked": False, "reason": "already_used"}
        if token is not None and token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return {"id": token_id, "revoked": True}


# -- orders ------------------------------------------------------------------------------------------


def _order_lock(order_id: str) -> Order:
    order = Order.objects.select_for_update().filter(id=order_id).first()
    if order is None:
        raise NotFound(f"No order {order_id}.")
    return order


def _order_set_status(order: Order, status: str) -> None:
    if status not in ORDER_TRANSITIONS[order.status]:
        raise OrderConflict(f"The order is {order.status}; it cannot become {status}.")
    order.status = status
    order.save(update_fields=["status"])


def _order_refunded(order: Order) -> int:
    return order.adjustments.aggregate(total=Sum("amount"))["total"] or 0


def order_refund(*, order_id: str, amount: int | None, reason: str = "") -> Order:
    with transaction.atomic():
        order = _order_lock(order_id)
        if order.status in (OrderStatus.REFUNDED, OrderStatus.CANCELED):
            raise OrderConflict(f"The order is already {order.status}.")
        remaining = order.total_amount - _order_refunded(order)
        amount = remaining if amount is None else amount
        if amount > remaining:
            raise InvalidRequest(f"At most {remaining} can still be refunded.", param="$.amount")
        OrderAdjustment.objects.create(order=order, type=AdjustmentType.REFUND, amount=amount, reason=reason[:200])
        _order_set_status(order, OrderStatus.REFUNDED if amount == remaining else OrderStatus.PARTIALLY_REFUNDED)
        _webhook_enqueue(order, event_type="order_update")
    return order


def order_cancel(*, order_id: str, reason: str = "") -> Order:
    """Cancel after sale: the goods were sold, so nothing returns to stock; the money is refunded in full."""
    with transaction.atomic():
        order = _order_lock(order_id)
        if order.status in (OrderStatus.REFUNDED, OrderStatus.CANCELED):
            raise OrderConflict(f"The order is already {order.status}.")
        remaining = order.total_amount - _order_refunded(order)
        OrderAdjustment.objects.create(order=order, type=AdjustmentType.CANCEL, amount=remaining, reason=reason[:200])
        _order_set_status(order, OrderStatus.CANCELED)
        _webhook_enqueue(order, event_type="order_update")
    return order


# -- webhooks ----------------------------------------------------------------------------------------


def webhook_signature(*, secret: str, timestamp: int, raw_body: bytes) -> str:
    signed = f"{timestamp}.".encode() + raw_body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _webhook_enqueue(order: Order, *, event_type: str) -> WebhookDelivery:
    """Write the event with the change it reports; hand it to Celery only once that change is committed."""
    from sandbox_merchant import tasks

    delivery_id = _new_id("evt")
    delivery = compiled.create(
        WebhookDelivery,
        id=delivery_id,
        order=order,
        event_type=event_type,
        # The official WebhookEvent: {type, data: Order}, nothing else (the delivery id stays ours).
        payload={"type": event_type, "data": selectors.order_representation(order)},
    )
    # robust: a broker hiccup must not turn a committed order into a 500 (the client would retry a
    # completed session); the event stays pending and the sweeper sends it later.
    transaction.on_commit(lambda: tasks.deliver_webhook.delay(delivery_id), robust=True)
    return delivery


def webhook_delivery_send(*, delivery_id: str) -> bool:
    """POST one event to our app, signed. True when delivered (now or before). No lock is held meanwhile."""
    from config.tracing import TRACE_HEADER, get_trace_id

    delivery = WebhookDelivery.objects.filter(id=delivery_id).first()
    if delivery is None or delivery.status == WebhookStatus.DELIVERED:
        return True
    raw_body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    signature = webhook_signature(
        secret=settings.SANDBOX_MERCHANT_WEBHOOK_SECRET, timestamp=timestamp, raw_body=raw_body
    )
    headers = {
        "Content-Type": "application/json",
        "Merchant-Signature": f"t={timestamp},v1={signature}",
        "Request-Id": delivery.id,
        "Timestamp": rfc3339(timezone.now()),
    }
    if get_trace_id():
        headers[TRACE_HEADER] = get_trace_id()
    error = ""
    try:
        response = requests.post(
            settings.SANDBOX_MERCHANT_WEBHOOK_URL,
            data=raw_body,
            headers=headers,
            timeout=(3, settings.SANDBOX_MERCHANT_WEBHOOK_TIMEOUT_SECONDS),
        )
        if not 200 <= response.status_code < 300:
            error = f"HTTP {response.status_code}: {response.text[:200]}"
    except requests.RequestException as exception:
        error = f"{type(exception).__name__}: {exception}"[:500]
    now = timezone.now()
    WebhookDelivery.objects.filter(id=delivery_id).exclude(status=WebhookStatus.DELIVERED).update(
        attempts=F("attempts") + 1,
        last_attempt_at=now,
        last_error=error,
        status=WebhookStatus.PENDING if error else WebhookStatus.DELIVERED,
        delivered_at=None if error else now,
    )
    if error:
        logger.warning("sandbox_merchant.webhook_failed", extra={"delivery_id": delivery_id, "error": error})
    return not error


def webhook_delivery_give_up(*, delivery_id: str) -> None:
    WebhookDelivery.objects.filter(id=delivery_id, status=WebhookStatus.PENDING).update(status=WebhookStatus.FAILED)


def webhook_deliveries_resend_stuck(*, older_than_seconds: int = 900) -> int:
    """Re-enqueue events whose task was lost (a crash between commit and enqueue, or a flushed queue)."""
    from sandbox_merchant import tasks

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stuck = WebhookDelivery.objects.filter(status=WebhookStatus.PENDING, created_at__lt=cutoff).exclude(
        last_attempt_at__gt=cutoff
    )
    ids = list(stuck.values_list("id", flat=True)[:200])
    for delivery_id in ids:
        tasks.deliver_webhook.delay(delivery_id)
    return len(ids)
