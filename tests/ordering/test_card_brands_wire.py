"""A saved card of a brand the merchant's card handler does not list in its `accepted_brands` (rfc.payment_handlers
§10.4.1), at the sandbox merchant over HTTP: the order stops at the price check, before a token is minted; the
customer is told which brand and offered their saved cards the shop does take; the audit log says which card (brand
and last four only). The sandbox plays a shop that takes Visa only (`SANDBOX_MERCHANT_ACCEPTED_BRANDS`), and holds
to it at complete itself (tests/sandbox_merchant/test_delegate_payment_cards.py).
"""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from consent.activity import activity_page
from ordering.models import CompensationStatus, FlowStatus, FlowStep, OrderFlow
from ordering.services import flow_confirm
from tests.ordering.saga_reads import confirm, ledger, messages
from tests.ordering.test_flow_lifecycle import confirm_and_run_at_once, drive
from tests.support.merchant_state import merchant_order_count, merchant_tokens, session_status


@pytest.fixture
def visa_only(shop, settings):
    """The sandbox takes Visa only: its handler's config says `accepted_brands: ["visa"]`."""
    settings.SANDBOX_MERCHANT_ACCEPTED_BRANDS = ["visa"]
    return shop


def _flow_failed_message(flow) -> dict:
    [failed] = [message for message in messages(flow) if message["data"].get("kind") == "flow_failed"]
    return failed


@pytest.mark.usefixtures("eager_tasks")
def test_a_card_the_shop_does_not_take_stops_before_a_token_and_offers_the_cards_it_takes(visa_only, caplog):
    shop = visa_only
    # given alice's preview paid with her Mastercard 3220 (the sandbox lists visa only)
    flow = shop.start_flow(card="pm_alice_3ds")
    caplog.set_level(logging.DEBUG)

    # when she confirms it
    flow = confirm(shop, flow)

    # then the flow failed at the price check and its undo ran: nothing delegated, completed or charged
    assert (flow.status, flow.failure_code) == (FlowStatus.COMPENSATED, "card_brand_not_accepted")
    assert list(FlowStep.objects.filter(flow=flow, is_compensation=False).values_list("name", "status")) == [
        ("check_consent", "succeeded"),
        ("reserve_spend", "succeeded"),
        ("score_risk", "succeeded"),
        ("verify_price", "failed"),
    ]
    verify = FlowStep.objects.get(flow=flow, name="verify_price")
    assert verify.result == {
        "payment_handler": "card_tokenized",
        "card_brand": "mastercard",
        "accepted_brands": ["visa"],
    }
    assert merchant_tokens(session_id=flow.checkout_session_id) == []
    assert shop.sandbox.received_requests(path_contains="delegate_payment") == []
    assert shop.sandbox.received_requests(path_contains="/complete") == []
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0
    assert ledger(flow) == {"reserve": flow.total_amount, "commit": 0, "release": flow.total_amount, "refund": 0}
    assert dict(flow.compensations.values_list("action", "status")) == {
        "release_spend": CompensationStatus.DONE,
        "cancel_checkout": CompensationStatus.DONE,
    }
    assert session_status(flow.checkout_session_id) == "canceled"  # the shop holds no stock for it

    # the customer reads which brand, and gets her saved cards the shop takes as choices (the declined path's
    # flow_failed message: its options and the agent's quick replies)
    told = _flow_failed_message(flow)
    assert told["text"] == (
        "This shop doesn't take Mastercard cards, so I did not place the order and nothing was charged. "
        "You can pay with your Visa •••• 4242 or Visa •••• 0002 instead, finish at the shop's own checkout page, "
        "or talk to a person."
    )
    assert told["data"]["code"] == "card_brand_not_accepted"
    assert told["data"]["options"] == ["manual_checkout", "talk_to_human"]
    assert told["data"]["quick_replies"] == [
        {"label": "Pay with Visa •••• 4242", "text": "Pay with the card ending 4242"},
        {"label": "Pay with Visa •••• 0002", "text": "Pay with the card ending 0002"},
    ]

    # the audit log and her activity name the card by brand and last four, nothing more of it
    failed = AuditEvent.objects.get(action="flow.failed", target_id=str(flow.pk))
    assert failed.data["code"] == "card_brand_not_accepted"
    assert (failed.data["card"], failed.data["accepted_brands"]) == ("Mastercard •••• 3220", ["visa"])
    entries, _ = activity_page(user_id=shop.alice.pk)
    [entry] = [e for e in entries if e.kind == "card_not_accepted"]
    assert entry.text.startswith("The shop does not take your Mastercard card ending 3220, so an order of $")
    assert entry.card_last4 == "3220"
    card = shop.card("pm_alice_3ds")
    said = json.dumps(list(AuditEvent.objects.filter(target_id=str(flow.pk)).values_list("data", flat=True)))
    # what each log record says: its message and the fields passed with it (not its timings: a float of
    # milliseconds may hold any four digits, e.g. "2030")
    timings = {"created", "msecs", "relativeCreated", "thread", "process", "lineno", "levelno"}
    said += " ".join(
        record.getMessage() + str({k: v for k, v in vars(record).items() if k not in timings})
        for record in caplog.records
    )
    said += flow.failure_detail
    for secret in (card.vault_reference, f"{card.exp_month:02d}/", str(card.exp_year)):
        assert secret not in said
    assert audit_chain_verify().intact


@pytest.mark.usefixtures("eager_tasks")
def test_a_card_of_a_brand_the_shop_takes_is_placed_as_before(visa_only):
    flow = visa_only.start_flow(card="pm_alice_visa")

    flow = confirm(visa_only, flow)

    assert flow.status == FlowStatus.PLACED
    [token] = merchant_tokens(session_id=flow.checkout_session_id)
    assert token.used


@pytest.mark.usefixtures("eager_tasks")
def test_a_customer_with_no_card_the_shop_takes_is_told_which_brands_it_takes(shop, settings):
    # bob's only saved card is a Visa; this shop takes Mastercard and American Express
    settings.SANDBOX_MERCHANT_ACCEPTED_BRANDS = ["mastercard", "amex"]
    bob = get_user_model().objects.get(username="bob")
    flow = shop.start_flow(user=bob, card="pm_bob_visa")

    flow_confirm(flow_id=flow.pk, customer_id=bob.pk, preview_hash=flow.preview_hash)

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert (flow.status, flow.failure_code) == (FlowStatus.COMPENSATED, "card_brand_not_accepted")
    assert merchant_tokens(session_id=flow.checkout_session_id) == []
    told = _flow_failed_message(flow)
    assert told["text"] == (
        "This shop doesn't take Visa cards, so I did not place the order and nothing was charged. It takes "
        "Mastercard or American Express, and none of your saved cards is one: you can add one on your settings "
        "page, finish at the shop's own checkout page, or talk to a person."
    )
    assert told["data"]["options"] == ["settings", "manual_checkout", "talk_to_human"]
    assert "quick_replies" not in told["data"]


@pytest.mark.postgres
def test_two_confirmations_at_once_of_a_card_the_shop_does_not_take_mint_nothing_and_fail_once(visa_only):
    shop = visa_only
    flow = shop.start_flow(card="pm_alice_3ds")

    errors = confirm_and_run_at_once(flow, customer_id=shop.alice.pk, threads=2, runs=5)
    flow = drive(flow)

    assert errors == []
    assert flow.failure_code == "card_brand_not_accepted"
    assert flow.status in (FlowStatus.FAILED, FlowStatus.COMPENSATING, FlowStatus.COMPENSATED)
    assert AuditEvent.objects.filter(action="flow.confirmed", target_id=str(flow.pk)).count() == 1
    assert AuditEvent.objects.filter(action="flow.failed", target_id=str(flow.pk)).count() == 1
    assert FlowStep.objects.filter(flow=flow, name="verify_price").count() == 1
    assert not FlowStep.objects.filter(flow=flow, name__in=("mint_token", "complete_checkout")).exists()
    assert len([m for m in messages(flow) if m["data"].get("kind") == "flow_failed"]) == 1
    assert merchant_tokens(session_id=flow.checkout_session_id) == []
    assert shop.sandbox.received_requests(path_contains="delegate_payment") == []

    # and the same confirmation posted again afterwards (a retried request) starts nothing
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    flow = drive(flow)
    assert AuditEvent.objects.filter(action="flow.confirmed", target_id=str(flow.pk)).count() == 1
    assert merchant_tokens(session_id=flow.checkout_session_id) == []


@pytest.mark.usefixtures("eager_tasks")
def test_the_tokens_allowance_names_the_sellers_psp_account_from_the_handlers_config(shop, settings):
    from sandbox_merchant.models import VaultToken

    # given a shop whose card handler's config names its PSP account (rfc.payment_handlers: merchant_id)
    settings.SANDBOX_MERCHANT_ID = "acct_sandbox_7731"
    flow = shop.start_flow(card="pm_alice_visa")

    flow = confirm(shop, flow)

    assert flow.status == FlowStatus.PLACED
    verify = FlowStep.objects.get(flow=flow, name="verify_price")
    assert verify.result["psp_merchant_id"] == "acct_sandbox_7731"
    [token] = VaultToken.objects.filter(checkout_session_id=flow.checkout_session_id)
    assert token.merchant_id == "acct_sandbox_7731"  # not our registry's id for the shop ("sandbox")
    assert flow.merchant_id == "sandbox"
