"""The in-memory fake merchant (tests/support/fake_merchant.py) answers like the sandbox over HTTP (#18).

Most tests whose subject is not the merchant wire use the fake; this module keeps it honest. Each scenario
runs twice, once against the real sandbox through the ACP adapter over HTTP and once against a fresh fake,
and what each answers through the merchant contract is compared after leaving out what is meant to
differ (ids the shop makes up, timestamps, the wire JSON): statuses, lines and their amounts, totals, tax,
shipping options, the one selected and the lines it covers, discounts applied and refused, messages (type,
code, param), stock held and released, tokens refused or spent, orders and their adjustments, the errors raised
(status and code); and what the evaluation's runner asks beyond the contract, of the sandbox's control API
(`SandboxControl`) and of the fake's (`FakeControl`): a reset to the demo shop, stock set, the orders taken with
the card each charged; and the customer's promotions, the one sandbox extension our side reads through the
merchant's HTTP client.
A scenario that fails here means the fake drifted: change the fake, not the scenario.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from catalog_adapters.contract import (
    Address,
    Allowance,
    Buyer,
    CheckoutRequest,
    CheckoutSession,
    FulfillmentDetails,
    LineItemRequest,
    Money,
    Order,
    PaymentData,
    Product,
    SelectedFulfillmentOption,
)
from catalog_adapters.errors import MerchantError
from catalog_adapters.registry import Merchant, MerchantConfig
from tests.ordering.conftest import QUICK_MERCHANT
from tests.support.fake_merchant import FakeMerchant
from tests.support.sandbox import ALICE, HOME

pytestmark = pytest.mark.postgres

BOB = Buyer(email="bob@example.com", first_name="Bob", last_name="Example")
NEW_YORK = FulfillmentDetails(
    name="Bob Example",
    address=Address(
        name="Bob Example", line_one="350 Fifth Avenue", city="New York", state="NY", country="US", postal_code="10118"
    ),
)
STANDARD = (SelectedFulfillmentOption(option_id="ship_standard"),)
EXPRESS = (SelectedFulfillmentOption(option_id="ship_express"),)
RUNNER = "var_blue_runner_42"
SOCKS = "var_run_socks_white_m"


class Shop:
    """One merchant under test, through the contract, with what a scenario needs to stage (stock, prices)."""

    def __init__(
        self,
        merchant: Any,
        *,
        set_stock: Callable[[str, int], None],
        set_price: Callable[[str, int], None],
        session_held: Callable[[str], int],
        add_fault: Callable[..., Any],
        clear_faults: Callable[[], None],
        drop_lines: Callable[[str], None],
    ):
        self.merchant = merchant
        self.set_stock = set_stock
        self.set_price = set_price
        self.session_held = session_held
        self.drop_lines = drop_lines
        self.add_fault = add_fault
        self.clear_faults = clear_faults

    def op(self) -> str:
        return f"op-{uuid.uuid4().hex}"

    def create(self, *lines: tuple[str, int], **fields) -> CheckoutSession:
        fields.setdefault("buyer", ALICE)
        request = CheckoutRequest(
            line_items=tuple(LineItemRequest(id=variant, quantity=quantity) for variant, quantity in lines),
            currency="usd",
            **fields,
        )
        return self.merchant.checkout.create(request=request, operation_id=self.op())

    def ready(self, *lines: tuple[str, int], **fields) -> CheckoutSession:
        fields.setdefault("fulfillment_details", HOME)
        fields.setdefault("selected_fulfillment_options", STANDARD)
        return self.create(*lines, **fields)

    def update(self, session: CheckoutSession, **fields) -> CheckoutSession:
        return self.merchant.checkout.update(
            session_id=session.id, request=CheckoutRequest(**fields), operation_id=self.op()
        )

    def token(self, session: CheckoutSession, *, card: str = "pm_alice_visa", max_amount: int | None = None, **kw):
        amount = session.total().amount if max_amount is None else max_amount
        allowance = Allowance(
            max_amount=Money(amount, kw.get("currency", "usd")),
            checkout_session_id=kw.get("session_id", session.id),
            merchant_id="sandbox",
            expires_at=timezone.now() + kw.get("expires_in", timedelta(minutes=15)),
        )
        return self.merchant.vault.delegate(vault_reference=card, allowance=allowance, operation_id=self.op()).id

    def complete(self, session: CheckoutSession, token: str, **kw) -> CheckoutSession:
        return self.merchant.checkout.complete(
            session_id=session.id,
            payment=PaymentData(token=token, handler_id="card_tokenized"),
            operation_id=self.op(),
            **kw,
        )

    def available(self, variant: str) -> int:
        [found] = [
            v for v in self.merchant.catalog.get_product(product_id=product_of(variant)).variants if v.id == variant
        ]
        return found.available

    @property
    def control(self) -> Any:
        """What the evaluation asks beyond the contract (a `ShopControl`): the fake's own, or the sandbox's
        control API over HTTP (the merchant "sandbox" of settings.MERCHANTS, which `sandbox_shop` points at it)."""
        from ordering.evaluation.sandbox_control import SandboxControl

        return self.merchant.control if isinstance(self.merchant, FakeMerchant) else SandboxControl("sandbox")


def product_of(variant: str) -> str:
    from ordering.evaluation.catalog import demo_variant

    return demo_variant(variant)[0].id


# -- what is compared ----------------------------------------------------------------------------------


def session_view(session: CheckoutSession) -> dict:
    return {
        "status": session.status,
        "currency": session.currency,
        "lines": [
            (
                line.item_id,
                line.quantity,
                line.title,
                line.colour,
                line.size,
                *(m.amount for m in (line.base_amount, line.discount, line.subtotal, line.tax, line.total)),
                line.unit_amount.amount if line.unit_amount else None,
                line.product_id,
            )
            for line in session.line_items
        ],
        "totals": [(total.type, total.amount.amount) for total in session.totals],
        "messages": sorted((m.type, m.code, m.param or "", m.resolution) for m in session.messages),
        "options": [
            (option.id, option.title, option.carrier, [(t.type, t.amount.amount) for t in option.totals])
            for option in session.fulfillment_options
        ],
        "selected": [(option.option_id, option.item_ids) for option in session.selected_fulfillment_options],
        "codes": list(session.discount_codes),
        "applied": [
            (d.code, d.amount.amount, d.description, [(a.path, a.amount) for a in d.allocations])
            for d in session.applied_discounts
        ],
        "rejected": [(r.code, r.reason) for r in session.rejected_discounts],
        "buyer": session.buyer,
        "fulfillment": session.fulfillment_details,
        "order": session.order.status if session.order else None,
        "handlers": [h.id for h in session.payment_handlers],
        "expires": session.expires_at is not None,
        "authentication": (
            (
                session.authentication_metadata.directory_server,
                session.authentication_metadata.flow_preference,
                session.authentication_metadata.flow_preference_subtype,
            )
            if session.authentication_metadata
            else None
        ),
    }


def order_view(order: Order) -> dict:
    return {
        "status": order.status,
        "currency": order.currency,
        "totals": [(total.type, total.amount.amount) for total in order.totals],
        "adjustments": [(a.type, a.amount.amount, a.status) for a in order.adjustments],
    }


def error_view(error: MerchantError) -> tuple:
    return (type(error).__name__, getattr(error, "status", None), getattr(error, "code", None))


def product_view(product: Product) -> tuple:
    variants = [(v.id, v.sku, v.colour, v.size, v.price.amount, v.available) for v in product.variants]
    return (product.id, product.title, product.description, product.category, product.brand, product.price, variants)


def view(value: Any) -> Any:
    if isinstance(value, Product):
        return product_view(value)
    if isinstance(value, CheckoutSession):
        return session_view(value)
    if isinstance(value, Order):
        return order_view(value)
    return value


def run(scenario: Callable[[Shop], Any], shop: Shop) -> list:
    """The scenario's answers, each viewed; an error raised ends it (its view is the last answer)."""
    answers: list = []

    def record(value: Any) -> Any:
        answers.append(view(value))
        return value

    try:
        scenario(shop, record)
    except MerchantError as error:
        answers.append(error_view(error))
    return answers


# -- the scenarios -------------------------------------------------------------------------------------


def bare_session(shop, record):
    record(shop.create((RUNNER, 1)))


def ready_session_taxed_and_shipped_free(shop, record):
    record(shop.ready((RUNNER, 2)))


def default_shipping_is_chosen_with_an_address(shop, record):
    record(shop.create((SOCKS, 1), fulfillment_details=HOME))


def cheap_order_pays_shipping_and_express_always_costs(shop, record):
    session = record(shop.ready((SOCKS, 1)))
    record(shop.update(session, selected_fulfillment_options=EXPRESS))


def unknown_shipping_option_is_an_error(shop, record):
    record(shop.ready((SOCKS, 1), selected_fulfillment_options=(SelectedFulfillmentOption(option_id="ship_teleport"),)))
    # on update, the previous selection stays (rfc.agentic_checkout §8) and the request's option is named
    session = record(shop.ready((SOCKS, 1)))
    record(shop.update(session, selected_fulfillment_options=(SelectedFulfillmentOption(option_id="ship_teleport"),)))


def another_state_is_taxed_at_its_rate(shop, record):
    record(shop.ready((RUNNER, 1), buyer=BOB, fulfillment_details=NEW_YORK))


def codes_applied_and_refused(shop, record):
    record(shop.ready((RUNNER, 1), discount_codes=("save10",)))
    record(shop.ready((SOCKS, 1), discount_codes=("SAVE10",)))
    record(shop.ready((RUNNER, 1), (SOCKS, 2), discount_codes=("ALICE10", "RUN15")))
    record(shop.ready((RUNNER, 1), buyer=BOB, discount_codes=("ALICE10",)))
    record(shop.ready((SOCKS, 1), discount_codes=("RUN15", "SUMMER5", "NOPE", "NOPE")))
    record(shop.ready(("var_gps_watch_black", 1), discount_codes=("BIG20",)))


def codes_changed_on_update(shop, record):
    session = record(shop.ready((RUNNER, 1), discount_codes=("SAVE10",)))
    record(shop.update(session, discount_codes=()))
    record(shop.update(session, line_items=(LineItemRequest(id=SOCKS, quantity=1),)))


def more_than_in_stock_is_out_of_stock(shop, record):
    record(shop.ready((RUNNER, 9)))
    record(shop.available(RUNNER))


def holds_are_counted_and_released(shop, record):
    first = record(shop.ready((RUNNER, 5)))
    record(shop.available(RUNNER))
    second = record(shop.ready((RUNNER, 4)))
    record((shop.session_held(first.id), shop.session_held(second.id), shop.session_held("cs_unknown")))
    record(shop.merchant.checkout.cancel(session_id=first.id, operation_id=shop.op()))
    record((shop.session_held(first.id), shop.session_held(second.id)))
    record(shop.available(RUNNER))
    third = record(shop.ready((RUNNER, 4)))
    record(shop.session_held(third.id))
    record(shop.available(RUNNER))


def set_stock_to_zero(shop, record):
    shop.set_stock("var_blue_runner_43", 0)
    record(shop.available("var_blue_runner_43"))
    record(shop.ready(("var_blue_runner_43", 1)))


def a_visa_completes_and_the_order_is_confirmed(shop, record):
    session = record(shop.ready((RUNNER, 2), discount_codes=("SAVE10",)))
    token = shop.token(session)
    done = record(shop.complete(session, token))
    record(shop.available(RUNNER))
    record(shop.merchant.orders.get(order_id=done.order.id))
    record(shop.merchant.checkout.get(session_id=session.id))
    record(shop.merchant.vault.revoke(token_id=token, operation_id=shop.op()).revoked)
    record(shop.merchant.checkout.cancel(session_id=session.id, operation_id=shop.op()))


def a_declined_card_is_payment_declined_and_stays_ready(shop, record):
    session = record(shop.ready((RUNNER, 1)))
    record(shop.complete(session, shop.token(session, card="pm_alice_decline")))
    record(shop.complete(session, shop.token(session)))


def a_card_of_a_brand_the_shop_does_not_take_is_payment_declined(shop, record):
    from django.test import override_settings

    with override_settings(SANDBOX_MERCHANT_ACCEPTED_BRANDS=["visa"]):
        session = record(shop.ready((RUNNER, 1)))
        record([handler.accepted_brands for handler in session.payment_handlers])
        record(shop.complete(session, shop.token(session, card="pm_alice_3ds")))  # a Mastercard
        record(shop.complete(session, shop.token(session)))


def tokens_refused(shop, record):
    session = record(shop.ready((RUNNER, 1)))
    record(shop.complete(session, shop.token(session, max_amount=100)))
    other = shop.ready((SOCKS, 1))
    record(shop.complete(session, shop.token(other)))
    record(shop.complete(session, shop.token(session, card="pm_bob_visa")))
    record(shop.complete(session, "vt_unknown"))
    revoked = shop.token(session)
    record(shop.merchant.vault.revoke(token_id=revoked, operation_id=shop.op()).revoked)
    record(shop.complete(session, revoked))
    record(shop.complete(session, shop.token(session)))


def not_ready_session_says_what_is_missing(shop, record):
    session = record(shop.create((RUNNER, 1)))
    record(shop.complete(session, shop.token(session, max_amount=100_00)))


def a_3ds_card_asks_for_authentication(shop, record):
    session = record(shop.ready((RUNNER, 1)))
    record(shop.complete(session, shop.token(session, card="pm_alice_3ds")))
    # verified out of band (two specialists with the cardholder): its issuer mandates the challenge, so refused
    record(
        shop.complete(
            session, shop.token(session, card="pm_alice_3ds"), authentication_result={"outcome": "not_supported"}
        )
    )


def a_challenge_the_merchant_prefers_takes_an_out_of_band_verification(shop, record):
    shop.add_fault("requires_3ds", operation="complete")
    session = record(shop.ready((RUNNER, 1)))
    record(shop.complete(session, shop.token(session)))
    # verified out of band: the merchant's own preference, so accepted without a liability shift
    record(shop.complete(session, shop.token(session), authentication_result={"outcome": "not_supported"}))


def a_price_change_before_complete_is_a_warning_and_nothing_is_charged(shop, record):
    session = record(shop.ready((RUNNER, 1)))
    shop.set_price(RUNNER, 7600)
    record(shop.complete(session, shop.token(session, max_amount=20_000)))
    record(shop.complete(session, shop.token(session, max_amount=20_000)))


def the_selected_option_covers_the_current_lines(shop, record):
    session = record(shop.ready((RUNNER, 1)))
    # the lines replaced, then one added: the option's item_ids follow them (SelectedFulfillmentOption.item_ids)
    record(shop.update(session, line_items=(LineItemRequest(id=SOCKS, quantity=2),)))
    record(
        shop.update(session, line_items=(LineItemRequest(id=SOCKS, quantity=2), LineItemRequest(id=RUNNER, quantity=1)))
    )
    # item_ids a client sends are not read, and a second option is not kept: one option covers the whole order
    both = (
        SelectedFulfillmentOption(option_id="ship_express", item_ids=("li_nothing_like_it",)),
        SelectedFulfillmentOption(option_id="ship_standard", item_ids=("li_run_socks_white_m",)),
    )
    record(shop.update(session, selected_fulfillment_options=both))
    record(shop.merchant.checkout.get(session_id=session.id))


def an_empty_cart_is_never_paid(shop, record):
    session = record(shop.ready((RUNNER, 1)))
    token = shop.token(session)
    emptied = record(shop.update(session, line_items=()))
    record(shop.complete(emptied, token))
    record(shop.available(RUNNER))
    # a session left ready without lines (written before the empty-cart rule) is refused at complete, nothing charged
    other = record(shop.ready((SOCKS, 1)))
    shop.drop_lines(other.id)
    record(shop.complete(other, shop.token(other)))
    record([order.total for order in shop.control.orders(customer="cus_alice")])
    record(shop.merchant.checkout.get(session_id=other.id))


def a_canceled_session_cannot_change(shop, record):
    session = record(shop.ready((RUNNER, 1)))
    record(shop.merchant.checkout.cancel(session_id=session.id, operation_id=shop.op()))
    record(shop.update(session, discount_codes=("SAVE10",)))


def an_unknown_variant_is_an_error(shop, record):
    record(shop.ready(("var_nothing_like_it", 1)))


def an_unknown_session_is_not_found(shop, record):
    record(shop.merchant.checkout.get(session_id="cs_nothing_like_it"))


def orders_cancel_and_refund(shop, record):
    session = shop.ready((RUNNER, 1))
    order_id = shop.complete(session, shop.token(session)).order.id
    record(shop.merchant.orders.refund(order_id=order_id, operation_id=shop.op(), amount=Money(1000, "usd")))
    record(shop.merchant.orders.cancel(order_id=order_id, operation_id=shop.op()))
    record(shop.merchant.orders.cancel(order_id=order_id, operation_id=shop.op()))


def a_cancel_that_fails_with_500_holds_the_stock_until_it_is_retried(shop, record):
    session = record(shop.ready((RUNNER, 2)))
    shop.add_fault("server_error", operation="cancel", times=50)
    try:
        shop.merchant.checkout.cancel(session_id=session.id, operation_id="cancel-op")
    except MerchantError as error:
        record(error_view(error))
    record((shop.session_held(session.id), shop.available(RUNNER)))
    record(shop.merchant.checkout.get(session_id=session.id))
    # an order's cancel is not the checkout session's: the rule leaves it alone
    other = shop.ready((SOCKS, 1))
    order_id = shop.complete(other, shop.token(other)).order.id
    record(shop.merchant.orders.cancel(order_id=order_id, operation_id=shop.op()))
    shop.clear_faults()
    # the same operation again, once the merchant answers: nothing of the failed call was stored
    record(shop.merchant.checkout.cancel(session_id=session.id, operation_id="cancel-op"))
    record((shop.session_held(session.id), shop.available(RUNNER)))


def catalog_reads_that_fail_with_500_and_then_answer(shop, record):
    shop.add_fault("server_error", operation="search", times=50)
    for read in (lambda: shop.merchant.catalog.search_products(query="blue runner"), lambda: shop.available(RUNNER)):
        try:
            read()
        except MerchantError as error:
            record(error_view(error))
    record(shop.ready((RUNNER, 1)))  # a checkout is no catalog read: the rule leaves it alone
    shop.clear_faults()
    record([p.id for p in shop.merchant.catalog.search_products(query="blue runner")])
    record(shop.available(RUNNER))


def the_control_reset_clears_the_fault_switchboard(shop, record):
    shop.add_fault("server_error", operation="search", times=50)
    record(shop.control.reset())  # counts the rule it dropped
    record(shop.available(RUNNER))  # the catalog answers again


def a_replayed_operation_is_answered_once(shop, record):
    request = CheckoutRequest(line_items=(LineItemRequest(id=RUNNER, quantity=1),), currency="usd", buyer=ALICE)
    first = record(shop.merchant.checkout.create(request=request, operation_id="same-op"))
    again = shop.merchant.checkout.create(request=request, operation_id="same-op")
    record(again.id == first.id)
    record(shop.available(RUNNER))


def catalog_search_and_products(shop, record):
    catalog = shop.merchant.catalog
    for query in ("blue runner", "", "socks"):
        record([(p.id, p.title, p.price.amount, len(p.variants)) for p in catalog.search_products(query=query)])
    record([p.id for p in catalog.search_products(query="", category="running-shoes", limit=3)])
    record([p.id for p in catalog.search_products(colour="red")])
    record([p.id for p in catalog.search_products(query="shoes", size="45")])
    record(catalog.get_product(product_id="prod_blue_runner"))
    record(catalog.get_product(product_id="prod_nothing_like_it"))


def saved_items_and_cards(shop, record):
    catalog = shop.merchant.catalog
    for customer in ("cus_alice", "cus_bob"):
        for kind in ("liked", "viewed", "purchased"):
            record(
                [
                    (i.kind, i.product_id, i.variant_id)
                    for i in catalog.list_saved_items(customer_id=customer, kind=kind)
                ]
            )
    saved = catalog.list_saved_products(customer_id="cus_alice", kind="liked")
    record([(s.item.product_id, s.product.id, len(s.product.variants)) for s in saved])
    record([(c.vault_reference, c.brand, c.last4) for c in shop.merchant.vault.customer_cards(customer_id="cus_alice")])
    record([(c.vault_reference, c.brand, c.last4) for c in shop.merchant.vault.customer_cards(customer_id="cus_bob")])


def saved_items_within_a_window(shop, record):
    catalog = shop.merchant.catalog
    for days in (2, 20, 400):  # nothing liked in the last two days
        since = timezone.now() - timedelta(days=days)
        record(
            [
                (i.product_id, i.variant_id)
                for i in catalog.list_saved_items(customer_id="cus_alice", kind="liked", since=since)
            ]
        )
        saved = catalog.list_saved_products(customer_id="cus_alice", kind="liked", since=since)
        record([(s.item.product_id, s.product.id) for s in saved])


def personal_promotions(shop, record):
    # Our side reads them through the merchant's HTTP client (ordering.agent.merchant.promotions_for_customer).
    for customer in ("cus_alice", "cus_bob", "cus_nobody"):
        answer = shop.merchant.http.request("GET", f"/customers/{customer}/promotions", operation="list_promotions")
        # expires_at: each shop dates its demo codes from when it was seeded
        record([{k: v for k, v in promotion.items() if k != "expires_at"} for promotion in answer.data["data"]])
    for customer in ("cus_alice", "cus_bob"):
        # with the codes anyone may use (how the assistant answers "any promo codes going?"), the customer's first
        answer = shop.merchant.http.request(
            "GET", f"/customers/{customer}/promotions", operation="list_promotions", params={"include": "public"}
        )
        record([{k: v for k, v in promotion.items() if k != "expires_at"} for promotion in answer.data["data"]])


def the_control_puts_back_the_demo_shop(shop, record):
    from ordering.evaluation.sandbox_control import SandboxControlError

    held = shop.ready((RUNNER, 3))
    shop.control.set_stock({"var_blue_runner_43": 1, SOCKS: 0})
    shop.set_price(RUNNER, 9999)
    record((shop.available(RUNNER), shop.available("var_blue_runner_43"), shop.available(SOCKS)))
    session = shop.ready(("var_blue_runner_43", 1))
    shop.complete(session, shop.token(session))
    record(shop.merchant.catalog.list_saved_items(customer_id="cus_alice", kind="purchased")[0].product_id)
    try:
        shop.control.set_stock({RUNNER: 1, "var_nothing_like_it": 2})
    except SandboxControlError as error:
        record(("refused", "var_nothing_like_it" in str(error)))

    record(shop.control.reset())

    record(shop.merchant.checkout.get(session_id=held.id))
    record(shop.merchant.catalog.get_product(product_id=product_of(RUNNER)))
    record((shop.available("var_blue_runner_43"), shop.available(SOCKS)))
    for kind in ("liked", "viewed", "purchased"):
        record(
            [
                (i.product_id, i.variant_id)
                for i in shop.merchant.catalog.list_saved_items(customer_id="cus_alice", kind=kind)
            ]
        )
    [order] = shop.control.orders(customer="cus_alice")
    record((order.checkout_session_id == session.id, order.status, order.card_brand, order.card_last4, order.total))
    record(
        (shop.control.orders(customer="cus_bob"), shop.control.order(order.id) == order, shop.control.order("ord_x"))
    )
    record(shop.control.reset())


SCENARIOS = [
    bare_session,
    ready_session_taxed_and_shipped_free,
    default_shipping_is_chosen_with_an_address,
    cheap_order_pays_shipping_and_express_always_costs,
    unknown_shipping_option_is_an_error,
    another_state_is_taxed_at_its_rate,
    codes_applied_and_refused,
    codes_changed_on_update,
    more_than_in_stock_is_out_of_stock,
    holds_are_counted_and_released,
    set_stock_to_zero,
    a_visa_completes_and_the_order_is_confirmed,
    a_declined_card_is_payment_declined_and_stays_ready,
    a_card_of_a_brand_the_shop_does_not_take_is_payment_declined,
    tokens_refused,
    not_ready_session_says_what_is_missing,
    a_3ds_card_asks_for_authentication,
    a_challenge_the_merchant_prefers_takes_an_out_of_band_verification,
    a_price_change_before_complete_is_a_warning_and_nothing_is_charged,
    the_selected_option_covers_the_current_lines,
    an_empty_cart_is_never_paid,
    a_canceled_session_cannot_change,
    an_unknown_variant_is_an_error,
    an_unknown_session_is_not_found,
    orders_cancel_and_refund,
    a_cancel_that_fails_with_500_holds_the_stock_until_it_is_retried,
    catalog_reads_that_fail_with_500_and_then_answer,
    a_replayed_operation_is_answered_once,
    catalog_search_and_products,
    saved_items_and_cards,
    saved_items_within_a_window,
    personal_promotions,
    the_control_puts_back_the_demo_shop,
    the_control_reset_clears_the_fault_switchboard,
]


@pytest.fixture
def sandbox_shop(sandbox_merchant, settings):
    from sandbox_merchant.models import Variant

    settings.MERCHANTS = {
        **settings.MERCHANTS,
        "sandbox": {**settings.MERCHANTS["sandbox"], **QUICK_MERCHANT, "BASE_URL": sandbox_merchant.base_url},
    }
    values = {**settings.MERCHANTS["sandbox"], "ID": "sandbox"}
    merchant = Merchant(MerchantConfig.from_settings(values))

    def set_price(variant_id: str, amount: int) -> None:
        Variant.objects.filter(id=variant_id).update(price_amount=amount)

    def drop_lines(session_id: str) -> None:
        from sandbox_merchant.models import CheckoutLine

        # Test set-up only: a session as one written ready without lines (before the empty-cart rule) is stored.
        CheckoutLine.objects.filter(session_id=session_id).delete()

    yield Shop(
        merchant,
        set_stock=sandbox_merchant.set_stock,
        set_price=set_price,
        session_held=sandbox_merchant.session_held,
        add_fault=sandbox_merchant.add_fault,
        clear_faults=sandbox_merchant.clear_faults,
        drop_lines=drop_lines,
    )
    merchant.close()


def fake_shop() -> Shop:
    fake = FakeMerchant()

    def drop_lines(session_id: str) -> None:
        fake.session_records[session_id].lines = []  # as the sandbox_shop's: its lines gone, the session as it was

    return Shop(
        fake,
        set_stock=fake.set_stock,
        set_price=fake.set_price,
        session_held=fake.session_held,
        add_fault=fake.add_fault,
        clear_faults=fake.clear_faults,
        drop_lines=drop_lines,
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_the_fake_answers_as_the_sandbox_over_http(sandbox_shop, scenario):
    real, fake = run(scenario, sandbox_shop), run(scenario, fake_shop())
    assert real, "the scenario answered nothing"
    assert fake == real


def test_the_comparison_sees_a_difference():
    """The views compare what matters: a fake that charged one cent more would fail the test above."""
    shop = fake_shop()
    before = run(ready_session_taxed_and_shipped_free, shop)
    shop = fake_shop()
    shop.set_price(RUNNER, 7201)
    assert run(ready_session_taxed_and_shipped_free, shop) != before


def order_event_view(payload: dict) -> tuple:
    from catalog_adapters.acp import order_from_wire

    return payload["type"], order_view(order_from_wire(payload["data"], currency="usd"))


def test_the_fakes_order_events_carry_what_the_sandboxs_webhooks_do(sandbox_shop, eager_tasks):
    """With `order_events`, the fake hands our webhook receiver the events the sandbox's webhooks carry."""
    from catalog_adapters.models import MerchantWebhookEvent
    from sandbox_merchant.models import WebhookDelivery

    run(orders_cancel_and_refund, sandbox_shop)
    sent = [order_event_view(d.payload) for d in WebhookDelivery.objects.order_by("created_at", "id")]

    shop = fake_shop()
    fake = shop.merchant
    fake.order_events = True
    run(orders_cancel_and_refund, shop)
    received = MerchantWebhookEvent.objects.filter(order_id__in=fake.order_records).order_by("received_at", "pk")

    assert [event.event_type for event in received] == ["order_create", "order_update", "order_update"]
    assert [order_event_view(event.payload) for event in received] == sent


def test_the_scenarios_reach_the_answers_they_are_about():
    """Guards the guard: the scenarios end where they mean to (an order, a refusal, an error), on the fake."""
    answers = {scenario.__name__: run(scenario, fake_shop()) for scenario in SCENARIOS}

    assert answers["a_visa_completes_and_the_order_is_confirmed"][1]["order"] == "confirmed"
    assert answers["a_canceled_session_cannot_change"][-1] == ("MerchantClientError", 405, "invalid_state")
    assert answers["an_unknown_variant_is_an_error"][-1] == ("MerchantClientError", 400, "not_found")
    challenged, refused = answers["a_3ds_card_asks_for_authentication"][1:]
    assert (challenged["status"], refused["status"]) == ("authentication_required", "authentication_required")
    assert any(message[1] == "payment_declined" for message in refused["messages"])
    challenged, verified = answers["a_challenge_the_merchant_prefers_takes_an_out_of_band_verification"][1:]
    assert (challenged["status"], verified["status"]) == ("authentication_required", "completed")
    assert ("warning", "price_change", "$.totals", "requires_buyer_review") in answers[
        "a_price_change_before_complete_is_a_warning_and_nothing_is_charged"
    ][1]["messages"]
    assert answers["more_than_in_stock_is_out_of_stock"][0]["status"] == "not_ready_for_payment"
    assert answers["not_ready_session_says_what_is_missing"][1]["messages"] == [
        ("error", "missing", "$.fulfillment_details", "requires_buyer_input")
    ]
    holds = answers["holds_are_counted_and_released"]
    assert (holds[3], holds[5], holds[8]) == ((5, 0, 0), (0, 0), 4)  # the second was out of stock
    refunded, canceled, again = answers["orders_cancel_and_refund"]
    assert (refunded["status"], canceled["status"]) == ("confirmed", "canceled")
    assert again == ("MerchantClientError", 409, "conflict")
    failed_cancel = answers["a_cancel_that_fails_with_500_holds_the_stock_until_it_is_retried"]
    assert failed_cancel[1] == ("MerchantServerError", 500, "internal_error")
    assert failed_cancel[2][0] == 2 and failed_cancel[3]["status"] == "ready_for_payment"
    assert failed_cancel[4]["status"] == "canceled"
    assert (failed_cancel[5]["status"], failed_cancel[6][0]) == ("canceled", 0)
    failed_reads = answers["catalog_reads_that_fail_with_500_and_then_answer"]
    assert failed_reads[0] == failed_reads[1] == ("MerchantServerError", 500, "internal_error")
    assert failed_reads[2]["status"] == "ready_for_payment" and failed_reads[3] and failed_reads[4] == 7
    covering = [answer["selected"] for answer in answers["the_selected_option_covers_the_current_lines"]]
    assert covering[:4] == [
        [("ship_standard", ("li_blue_runner_42",))],
        [("ship_standard", ("li_run_socks_white_m",))],
        [("ship_standard", ("li_run_socks_white_m", "li_blue_runner_42"))],
        [("ship_express", ("li_run_socks_white_m", "li_blue_runner_42"))],
    ]
    empty_cart = ("error", "missing", "$.line_items", "requires_buyer_input")
    emptied, refused, _available, left_ready, refused_at_complete, orders, _again = answers[
        "an_empty_cart_is_never_paid"
    ][1:]
    assert (emptied["status"], emptied["lines"], emptied["selected"]) == (
        "not_ready_for_payment",
        [],
        [("ship_standard", ())],
    )
    assert refused["status"] == "not_ready_for_payment" and empty_cart in refused["messages"]
    assert (left_ready["status"], refused_at_complete["status"]) == ("ready_for_payment", "not_ready_for_payment")
    assert empty_cart in refused_at_complete["messages"] and refused_at_complete["order"] is None
    assert orders == []
