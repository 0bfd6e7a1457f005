"""The agent's calls to the merchant that are not plain contract calls: the cart as a checkout session,
and the customer's personal promotions.

The cart is one merchant checkout session owned by a draft flow (`flow_start`). Every change sends
the whole cart again under an operation id derived from the conversation and the cart version, so a
retried call replays at the merchant instead of changing the session twice.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from catalog_adapters.contract import (
    Address as AcpAddress,
)
from catalog_adapters.contract import (
    Buyer,
    CheckoutRequest,
    CheckoutSession,
    FulfillmentDetails,
    LineItemRequest,
    SelectedFulfillmentOption,
)
from catalog_adapters.http import path_segment
from catalog_adapters.registry import get_merchant
from config.statements import models_select, postgresql_or_orm
from consent.models import Address, MerchantAccount, PaymentMethod
from consent.selectors import address_default, address_get, merchant_account_for_customer
from ordering.errors import AssistantPaused, PreviewIncomplete, RolloutCeilingExceeded
from ordering.models import Conversation, FlowStatus, OrderFlow
from ordering.selectors import uuid_or_none
from ordering.services import flow_cancel, flow_preview, flow_start

# Flows whose checkout session is still the customer's cart.
CART_FLOW_STATUSES = (FlowStatus.DRAFT, FlowStatus.PREVIEWED)


def merchant_id_default() -> str:
    return settings.DEFAULT_MERCHANT_ID


@dataclass(frozen=True)
class Promotion:
    code: str
    description: str
    kind: str
    percent_off: int | None
    amount_off: int | None
    personal: bool = True  # the customer's own code; False: one anyone may use


def promotions_for_customer(
    *,
    customer_id: int,
    merchant_id: str,
    account: MerchantAccount | object | None = ...,
    include_public: bool = False,
) -> list[Promotion]:
    """The customer's personal codes usable now (the merchant's promotions extension); with `include_public`,
    then the codes anyone may use now (`include=public`; a merchant that ignores it lists the personal ones).

    The ACP client has no call for it, so this asks the merchant's HTTP client directly (timeouts,
    retries, breaker and trace id included). No merchant account known: no personal promotions.
    `account`: the customer's account at `merchant_id` when the caller has read it already (None: none).
    """
    if account is ...:
        account = merchant_account_for_customer(user_id=customer_id, merchant_id=merchant_id)
    if not isinstance(account, MerchantAccount):
        return []
    if not account.customer_ref:
        return []
    customer_ref = path_segment(account.customer_ref, merchant_id=merchant_id, operation="list_promotions")
    response = get_merchant(merchant_id).http.request(
        "GET",
        f"/customers/{customer_ref}/promotions",
        operation="list_promotions",
        params={"include": "public"} if include_public else None,
    )
    promotions = []
    for item in (response.data or {}).get("data") or []:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            continue
        promotions.append(
            Promotion(
                code=item["code"][:40],
                description=str(item.get("description") or "")[:200],
                kind=str(item.get("kind") or ""),
                percent_off=item.get("percent_off") if isinstance(item.get("percent_off"), int) else None,
                amount_off=item.get("amount_off") if isinstance(item.get("amount_off"), int) else None,
                # a merchant that does not say is answering the personal list
                personal=item.get("personal") is not False,
            )
        )
    return promotions


def merchant_customer_ref(*, customer_id: int, merchant_id: str) -> str | None:
    account = merchant_account_for_customer(user_id=customer_id, merchant_id=merchant_id)
    return account.customer_ref if account and account.customer_ref else None


def cart_flow(conversation: Conversation, state: dict[str, Any]) -> OrderFlow | None:
    """The flow that owns the cart's checkout session, if it still is a cart (not placed or stopped)."""
    if not state.get("flow_id"):
        return None
    flow_id = uuid_or_none(state["flow_id"])
    if flow_id is None:
        return None

    def read() -> OrderFlow | None:
        rows = models_select(OrderFlow, where="t.id = %s AND t.conversation_id = %s", params=[flow_id, conversation.pk])
        return rows[0] if rows else None

    flow = postgresql_or_orm(
        postgresql=read, orm=lambda: OrderFlow.objects.filter(pk=flow_id, conversation=conversation).first()
    )
    return flow if flow is not None and flow.status in CART_FLOW_STATUSES else None


def shipping_address(*, customer_id: int, state: dict[str, Any]) -> Address | None:
    if state.get("address_id"):
        return address_get(user_id=customer_id, address_id=state["address_id"])
    return address_default(user_id=customer_id)


@dataclass(frozen=True)
class CartBuyer:
    """Who the cart is for, as a turn read it once: the customer, their account at the shop, where it ships,
    and their saved cards and addresses (for a preview made again after a change)."""

    customer: Any
    account: MerchantAccount | None
    address: Address | None
    payment_methods: tuple[PaymentMethod, ...] = ()
    addresses: tuple[Address, ...] = ()


def buyer_read(*, conversation: Conversation, state: dict[str, Any]) -> CartBuyer:
    customer = get_user_model().objects.get(pk=conversation.customer_id)
    return CartBuyer(
        customer=customer,
        account=merchant_account_for_customer(user_id=customer.pk, merchant_id=merchant_id_default()),
        address=shipping_address(customer_id=customer.pk, state=state),
    )


def fulfillment_details(address: Any, email: str) -> FulfillmentDetails:
    """A saved address (`consent.models.Address`) as ACP's fulfillment details, to `email`."""
    return FulfillmentDetails(
        name=address.recipient,
        email=email,
        address=AcpAddress(
            name=address.recipient,
            line_one=address.line1,
            line_two=address.line2,
            city=address.city,
            state=address.region,
            country=address.country,
            postal_code=address.postal_code,
        ),
    )


def _checkout_request(
    *, buyer: CartBuyer, state: dict[str, Any], with_currency: bool, offer_codes: tuple[str, ...] = ()
) -> CheckoutRequest:
    customer, account, address = buyer.customer, buyer.account, buyer.address
    email = (account.email if account else "") or customer.email
    details = fulfillment_details(address, email) if address is not None else None
    return CheckoutRequest(
        line_items=tuple(LineItemRequest(id=line["variant_id"], quantity=line["quantity"]) for line in state["cart"]),
        currency=(state["cart"][0].get("currency") or "usd") if with_currency else None,
        buyer=Buyer(email=email, first_name=customer.first_name, last_name=customer.last_name),
        fulfillment_details=details,
        # The assistant's word for the choice: the client maps it onto an option this merchant offers.
        selected_fulfillment_options=(SelectedFulfillmentOption(option_id=state["shipping"]),),
        discount_codes=(*state["promo_codes"], *(code for code in offer_codes if code not in state["promo_codes"])),
    )


_UNREAD: Any = object()


def cart_sync(
    *,
    conversation: Conversation,
    state: dict[str, Any],
    flow: OrderFlow | None = _UNREAD,
    buyer: CartBuyer | None = None,
    offer_codes: tuple[str, ...] = (),
) -> tuple[OrderFlow | None, CheckoutSession | None]:
    """Send the cart to the merchant (create the session and its draft flow, or update it).

    `flow` is the cart's flow (`cart_flow`) and `buyer` who it is for, when the caller has read them
    already. `offer_codes`: discount codes a create carries besides the cart's own (ACP lets a create carry
    `discounts.codes`), so a turn that starts a cart and applies a code makes one call; the caller reads
    the answer's applied and rejected discounts to decide which become the cart's. An update ignores them.

    An emptied cart cancels its flow, which releases the merchant's stock hold. A flow that was previewed
    is previewed again at once, so the preview the customer saw before the change can no longer be confirmed.
    """
    if flow is _UNREAD:
        flow = cart_flow(conversation, state)
    if not state["cart"]:
        if flow is not None:
            flow = flow_cancel(
                flow_id=flow.pk, actor_type="agent", reason="cart_emptied", customer_id=conversation.customer_id
            )
        state["flow_id"] = None
        state["shown_preview_hash"] = ""
        return None, None
    buyer = buyer or buyer_read(conversation=conversation, state=state)
    checkout = get_merchant(merchant_id_default()).checkout
    state["cart_version"] += 1
    operation_id = f"conversation:{conversation.pk}:cart:v{state['cart_version']}"
    if flow is None:
        session = checkout.create(
            request=_checkout_request(buyer=buyer, state=state, with_currency=True, offer_codes=offer_codes),
            operation_id=operation_id,
        )
        flow = flow_start(conversation=conversation, merchant_id=merchant_id_default(), checkout_session_id=session.id)
        state["flow_id"] = str(flow.pk)
        state["shown_preview_hash"] = ""
        return flow, session
    session = checkout.update(
        session_id=flow.checkout_session_id,
        request=_checkout_request(buyer=buyer, state=state, with_currency=False),
        operation_id=operation_id,
    )
    if flow.status == FlowStatus.PREVIEWED and flow.payment_method_id and flow.shipping_address_id:
        # Incomplete (or refused by the rollout: paused, over the phase's limit): the shown hash no longer
        # matches the cart either way (the saga checks the final price); the next preview tells the customer why.
        with contextlib.suppress(PreviewIncomplete, AssistantPaused, RolloutCeilingExceeded):
            flow = flow_preview(
                flow_id=flow.pk,
                customer_id=conversation.customer_id,
                session=session,
                payment_method_id=flow.payment_method_id,
                address_id=flow.shipping_address_id,
                payment_method=next((m for m in buyer.payment_methods if m.pk == flow.payment_method_id), None),
                address=next((a for a in buyer.addresses if a.pk == flow.shipping_address_id), None),
                known=flow,
            )
    return flow, session
