"""The storefront's checkout: every write, and every call to the merchant's checkout API.

The page is a client of the checkout API over HTTP (catalog_adapters, the assistant's own client), so
what the customer is charged is what the merchant computed. Each call's `operation_id` is named after
the checkout's key and the revision (updates) or attempt (placements) it belongs to, so a retried or
repeated request is the same logical call to the merchant and can never act twice.

Placing an order (checkout_place) claims the checkout first with one conditional UPDATE (open →
placing, committed before any HTTP call): of two "Place order" clicks only one talks to the merchant;
the other is told the order is on its way. The claim is released (attempt + 1) when the merchant
answers without an order (declined card, price change, sold out), and kept when the outcome is unknown
(a timeout after sending complete): a later click after `PLACING_STALE_SECONDS` repeats the very same
calls, which the merchant answers from its idempotency store, so the order is never placed twice.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog_adapters.contract import Address as AcpAddress
from catalog_adapters.contract import (
    Allowance,
    Buyer,
    CheckoutRequest,
    CheckoutSession,
    FulfillmentDetails,
    LineItemRequest,
    PaymentData,
)
from catalog_adapters.errors import MerchantError
from catalog_adapters.registry import get_merchant
from consent.formatting import format_money
from consent.models import Address, PaymentMethod
from consent.selectors import merchant_account_for_customer
from ordering.models import ExperimentChannel, ExperimentEventKind
from ordering.rollout.assignment import assign_user
from ordering.rollout.events import experiment_event_record
from sandbox_merchant.models import Customer, ShopCheckout, ShopCheckoutStatus, Variant, VaultCard
from sandbox_merchant.rules import TEST_CARD_NUMBERS, card_number_luhn_valid
from sandbox_merchant.services import vault_card_keep

logger = logging.getLogger(__name__)

CHECKOUT_KEY = "shop_checkout_key"
# The checkout this browser session placed last: a "Place order" press that arrives after the order went through
# (a double click, a second tab) finds its order instead of an expired checkout.
PLACED_KEY = "shop_placed_checkout_key"
SESSION_STARTED_KEY = "shop_session_started"
PLACING_STALE_SECONDS = 30
TOKEN_MINUTES = 15
OPEN_SESSION_STATUSES = ("not_ready_for_payment", "ready_for_payment")


class ShopError(Exception):
    """Something the customer must be told on the page; `message` says what happened and what to do."""

    status = 200  # the page still renders (the cart, the message); see ShopUnavailable

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ShopUnavailable(ShopError):
    """The merchant could not be reached or failed (5xx, timeout, breaker open): worth trying again later."""

    status = 503


class CheckoutBusy(ShopError):
    """Another "Place order" for this checkout is talking to the merchant right now."""


def shop_merchant_id() -> str:
    return settings.DEFAULT_MERCHANT_ID


# -- experiment events (the customer's own arm, channel storefront) -------------------------------------


def _record(*, user: Any, kind: str, **fields: Any) -> None:
    experiment_event_record(
        assignment=assign_user(user), customer_id=user.pk, kind=kind, channel=ExperimentChannel.STOREFRONT, **fields
    )


def shop_session_start(*, user: Any, session: Any) -> None:
    """The first add to cart in this browser session starts a storefront session for the experiment."""
    if session.get(SESSION_STARTED_KEY):
        return
    _record(user=user, kind=ExperimentEventKind.SESSION_STARTED)
    session[SESSION_STARTED_KEY] = True


# -- sandbox test cards (the shop's own card form, into the shop's own vault) -----------------------------


def test_card_vault(*, customer_ref: str, number: str, exp_month: int, exp_year: int, cvc: str) -> VaultCard:
    """Put a sandbox test card into the shop's vault for this customer; the same card again is the same row."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) < 12 or not card_number_luhn_valid(digits):
        raise ShopError("That card number is not valid. Check the digits and try again.")
    if digits not in TEST_CARD_NUMBERS:
        raise ShopError(
            "This demo shop takes only the sandbox's test cards, e.g. 4242 4242 4242 4242. "
            "No real card is charged here."
        )
    if not (len(cvc) in (3, 4) and cvc.isdigit()):
        raise ShopError("The security code (CVC) is the 3 or 4 digits on the card.")
    today = timezone.now().date()
    if (exp_year, exp_month) < (today.year, today.month):
        raise ShopError("That card has expired. Check the expiry date or use another card.")
    brand, behaviour = TEST_CARD_NUMBERS[digits]
    if not Customer.objects.filter(id=customer_ref).exists():
        raise ShopError("The shop does not know your account yet, so it cannot keep a card for you.")
    return vault_card_keep(
        customer_id=customer_ref,
        brand=brand,
        last4=digits[-4:],
        exp_month=exp_month,
        exp_year=exp_year,
        behaviour=behaviour,
    )


def shop_card_add(
    *, user: Any, number: str, exp_month: int, exp_year: int, cvc: str, origin: Any = None
) -> PaymentMethod:
    """A card typed on the checkout page: into the shop's vault, then saved on our side by its reference
    through consent's own path (which asks the merchant over HTTP whether the card is this customer's)."""
    from consent.exceptions import ConsentError
    from consent.services.wallet import payment_method_add

    account = merchant_account_for_customer(user_id=user.pk, merchant_id=shop_merchant_id())
    if account is None:
        raise ShopError("Your account is not linked to the shop yet, so it cannot take a card for you.")
    card = test_card_vault(
        customer_ref=account.customer_ref, number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc
    )
    try:
        return payment_method_add(
            user_id=user.pk, merchant_id=shop_merchant_id(), vault_reference=card.reference, origin=origin
        )
    except ConsentError as error:
        raise ShopError(error.message) from None


# -- the checkout ------------------------------------------------------------------------------------


def checkout_for_session(*, user: Any, session: Any) -> ShopCheckout | None:
    key = session.get(CHECKOUT_KEY)
    if not key:
        return None
    return ShopCheckout.objects.filter(key=key, user=user).first()


def checkout_open(*, user: Any, session: Any) -> ShopCheckout:
    """This browser session's open checkout, or a new one (recording `checkout_started` once for it)."""
    checkout = checkout_for_session(user=user, session=session)
    if checkout is not None and checkout.status != ShopCheckoutStatus.PLACED:
        return checkout
    account = merchant_account_for_customer(user_id=user.pk, merchant_id=shop_merchant_id())
    if account is None:
        raise ShopError("Your account is not linked to the shop yet, so it cannot take an order from you.")
    with transaction.atomic():
        checkout = ShopCheckout.objects.create(key=uuid.uuid4(), user=user, customer_ref=account.customer_ref)
        _record(user=user, kind=ExperimentEventKind.CHECKOUT_STARTED)
    session[CHECKOUT_KEY] = str(checkout.key)
    return checkout


def fulfillment_from_address(address: Address) -> dict:
    return {
        "name": address.recipient,
        "line_one": address.line1,
        "line_two": address.line2,
        "city": address.city,
        "state": address.region,
        "country": address.country,
        "postal_code": address.postal_code,
    }


def _buyer(user: Any, account_email: str) -> Buyer:
    return Buyer(email=account_email or user.email, first_name=user.first_name, last_name=user.last_name)


def _details(fulfillment: dict, email: str) -> FulfillmentDetails | None:
    if not fulfillment:
        return None
    return FulfillmentDetails(
        name=fulfillment["name"],
        email=email,
        address=AcpAddress(
            name=fulfillment["name"],
            line_one=fulfillment["line_one"],
            line_two=fulfillment.get("line_two", ""),
            city=fulfillment["city"],
            state=fulfillment.get("state", ""),
            country=fulfillment["country"],
            postal_code=fulfillment["postal_code"],
        ),
    )


def _line_items(lines: list[dict]) -> tuple[LineItemRequest, ...]:
    return tuple(LineItemRequest(id=line["variant_id"], quantity=line["quantity"]) for line in lines)


def _unavailable(error: MerchantError) -> ShopError:
    logger.warning("shop checkout: merchant call failed", extra={"error_class": error.error_class})
    if error.status and 400 <= error.status < 500 and error.status not in (409, 429):
        return ShopError("The shop could not take that request. Your cart is kept; please check it and try again.")
    return ShopUnavailable("The shop is not answering just now. Your cart is kept; please try again in a minute.")


def checkout_sync(*, checkout: ShopCheckout, user: Any, lines: list[dict], fulfillment: dict) -> CheckoutSession:
    """The merchant's session for this cart and address: created, updated when they changed, else read."""
    merchant = get_merchant(shop_merchant_id())
    account = merchant_account_for_customer(user_id=user.pk, merchant_id=shop_merchant_id())
    email = (account.email if account else "") or user.email
    try:
        session = None
        if checkout.checkout_session_id:
            if checkout.lines == lines and checkout.fulfillment == fulfillment:
                session = merchant.checkout.get(session_id=checkout.checkout_session_id)
            else:
                session = merchant.checkout.update(
                    session_id=checkout.checkout_session_id,
                    request=CheckoutRequest(
                        line_items=_line_items(lines), fulfillment_details=_details(fulfillment, email)
                    ),
                    operation_id=f"shop-{checkout.key}-update-{checkout.revision}",
                )
            if session.status not in OPEN_SESSION_STATUSES:
                session = None  # expired, canceled or stuck in 3-D Secure: start a new one
        if session is None:
            currency = Variant.objects.filter(id=lines[0]["variant_id"]).values_list("currency", flat=True).first()
            session = merchant.checkout.create(
                request=CheckoutRequest(
                    line_items=_line_items(lines),
                    currency=currency or "usd",
                    buyer=_buyer(user, email),
                    fulfillment_details=_details(fulfillment, email),
                ),
                operation_id=f"shop-{checkout.key}-create-{checkout.revision}",
            )
    except MerchantError as error:
        raise _unavailable(error) from error
    ShopCheckout.objects.filter(pk=checkout.pk).update(
        checkout_session_id=session.id, lines=lines, fulfillment=fulfillment, revision=F("revision") + 1
    )
    checkout.refresh_from_db()
    return session


@dataclass(frozen=True)
class Placed:
    checkout: ShopCheckout


def _claim(checkout: ShopCheckout) -> bool:
    stale = timezone.now() - timedelta(seconds=PLACING_STALE_SECONDS)
    claimable = Q(status=ShopCheckoutStatus.OPEN) | Q(status=ShopCheckoutStatus.PLACING, placing_since__lt=stale)
    return bool(
        ShopCheckout.objects.filter(claimable, pk=checkout.pk).update(
            status=ShopCheckoutStatus.PLACING, placing_since=timezone.now()
        )
    )


def _release(checkout: ShopCheckout, *, next_attempt: bool, drop_session: bool = False) -> None:
    changes: dict[str, Any] = {"status": ShopCheckoutStatus.OPEN, "placing_since": None}
    if next_attempt:
        changes["attempt"] = F("attempt") + 1
    if drop_session:
        changes["checkout_session_id"] = ""
        changes["revision"] = F("revision") + 1
    ShopCheckout.objects.filter(pk=checkout.pk, status=ShopCheckoutStatus.PLACING).update(**changes)


def _summary(session: CheckoutSession) -> dict:
    return {
        "lines": [
            {
                "title": line.title,
                "colour": line.colour or "",
                "size": line.size or "",
                "quantity": line.quantity,
                "total": format_money(line.subtotal.amount, line.subtotal.currency),
            }
            for line in session.line_items
        ],
        "totals": [
            {"label": total.display_text, "amount": format_money(total.amount.amount, total.amount.currency)}
            for total in session.totals
        ],
    }


def _record_placed(*, checkout: ShopCheckout, user: Any, session: CheckoutSession) -> ShopCheckout:
    total = session.total()
    order = session.order
    with transaction.atomic():
        won = (
            ShopCheckout.objects.filter(pk=checkout.pk)
            .exclude(status=ShopCheckoutStatus.PLACED)
            .update(
                status=ShopCheckoutStatus.PLACED,
                order_id=order.id,
                order_number=order.order_number or order.id,
                total_amount=total.amount if total else None,
                currency=total.currency if total else "",
                summary=_summary(session),
            )
        )
        if won:  # the one request that recorded the order also counts it, once
            _record(
                user=user,
                kind=ExperimentEventKind.ORDER_PLACED,
                order_ref=order.id,
                amount=total.amount if total else None,
                currency=total.currency if total else "",
            )
    checkout.refresh_from_db()
    return checkout


def problem_text(session: CheckoutSession, message: Any) -> str:
    """A merchant's error message in the customer's words (the merchant's own text where we have no better)."""
    if message.code == "out_of_stock":
        match = re.search(r"\[(\d+)\]", message.param or "")
        index = int(match.group(1)) if match else -1
        name = session.line_items[index].title if 0 <= index < len(session.line_items) else "An item"
        return (
            f"Sorry, {name} is out of stock in the quantity you chose. Change the quantity or remove it from the cart."
        )
    return message.content


def _refusal_message(session: CheckoutSession) -> str:
    if session.status == "authentication_required":
        return (
            "Your bank asks to verify this card (3-D Secure), which this checkout cannot do. Nothing was charged; "
            "please choose another card."
        )
    if session.price_changed:
        total = session.total()
        shown = format_money(total.amount, total.currency) if total else "a new total"
        return f"The shop's prices changed: the total is now {shown}. Nothing was charged; review it and place again."
    for message in session.errors:
        return f"{problem_text(session, message)} Your cart is kept."
    return "The shop did not take the order. Nothing was charged; your cart is kept, please try again."


def checkout_place(
    *, checkout: ShopCheckout, user: Any, payment_method: PaymentMethod, expected_total: int | None
) -> ShopCheckout:
    """Place the order at the merchant once, however many times it is asked (see the module docstring)."""
    if checkout.status == ShopCheckoutStatus.PLACED:
        return checkout
    if not checkout.checkout_session_id:
        raise ShopError("Choose where to send the order first.")
    if not _claim(checkout):
        checkout.refresh_from_db()
        if checkout.status == ShopCheckoutStatus.PLACED:
            return checkout
        raise CheckoutBusy("Your order is being placed. This page shows it as soon as the shop confirms it.")
    checkout.refresh_from_db()
    merchant = get_merchant(shop_merchant_id())
    attempt = checkout.attempt
    try:
        session = merchant.checkout.get(session_id=checkout.checkout_session_id)
        if session.status == "completed" and session.order is not None:
            return _record_placed(checkout=checkout, user=user, session=session)
        total = session.total()
        if session.status != "ready_for_payment" or total is None:
            _release(checkout, next_attempt=False, drop_session=session.status not in OPEN_SESSION_STATUSES)
            raise ShopError(_refusal_message(session) if session.errors else "Choose where to send the order first.")
        if expected_total is not None and total.amount != expected_total:
            _release(checkout, next_attempt=False)
            raise ShopError(
                f"The total is now {format_money(total.amount, total.currency)}. Nothing was charged; "
                "review it and place the order again."
            )
        token = merchant.vault.delegate(
            vault_reference=payment_method.vault_reference,
            allowance=Allowance(
                max_amount=total,
                checkout_session_id=session.id,
                merchant_id=shop_merchant_id(),
                expires_at=timezone.now() + timedelta(minutes=TOKEN_MINUTES),
            ),
            operation_id=f"shop-{checkout.key}-token-{attempt}",
        )
        result = merchant.checkout.complete(
            session_id=session.id,
            payment=PaymentData(token=token.id),
            operation_id=f"shop-{checkout.key}-complete-{attempt}",
        )
    except MerchantError as error:
        if error.outcome_unknown:
            # Keep the claim: the order may exist. The next try repeats the same calls (same keys).
            raise ShopError(
                "The shop did not answer in time, so we do not know yet whether the order went through. "
                "Please wait a minute and reload this page; you will not be charged twice."
            ) from error
        _release(checkout, next_attempt=True)
        raise _unavailable(error) from error
    if result.status == "completed" and result.order is not None:
        return _record_placed(checkout=checkout, user=user, session=result)
    _release(checkout, next_attempt=True, drop_session=result.status not in OPEN_SESSION_STATUSES)
    raise ShopError(_refusal_message(result))


def checkout_forget(*, session: Any) -> None:
    """After an order: the next visit to checkout starts a new checkout (the placed one is kept as PLACED_KEY)."""
    key = session.pop(CHECKOUT_KEY, None)
    if key:
        session[PLACED_KEY] = key


def checkout_placed_for_session(*, user: Any, session: Any) -> ShopCheckout | None:
    """The checkout this browser session placed last, if it is placed (see PLACED_KEY)."""
    key = session.get(PLACED_KEY)
    if not key:
        return None
    return ShopCheckout.objects.filter(key=key, user=user, status=ShopCheckoutStatus.PLACED).first()
