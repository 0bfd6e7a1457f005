"""The placement saga's outcomes that need no HTTP fault (a declined card, 3-D Secure, a price change at
complete, the flow metrics), on the in-memory fake merchant with db: the saga's own bookkeeping is the subject;
merchant state and ledger checked after each. The happy path over HTTP and the merchant's faults at complete are
in test_saga_wire.py, on the sandbox."""

from __future__ import annotations

import pytest

from consent.activity import activity_page
from escalations.models import Escalation
from ordering.models import ConversationStatus, FlowStatus
from tests.ordering.saga_reads import confirm, ledger, messages
from tests.support.merchant_state import (
    available,
    merchant_order_count,
    merchant_token,
    session_order,
    session_status,
)
from tests.support.sandbox import BLUE_RUNNER_42

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    return fake_shop


def test_a_declined_card_charges_nothing_releases_everything_and_offers_options(shop):
    before = available(BLUE_RUNNER_42)
    flow = shop.start_flow(card="pm_alice_decline")

    flow = confirm(shop, flow)

    assert flow.status == FlowStatus.COMPENSATED
    assert flow.failure_code == "payment_declined"
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0
    assert session_status(flow.checkout_session_id) == "canceled"
    assert available(BLUE_RUNNER_42) == before
    assert merchant_token(flow.checkout_session_id).revoked
    assert ledger(flow) == {"reserve": flow.total_amount, "commit": 0, "release": flow.total_amount, "refund": 0}
    told = messages(flow)[-1]
    assert "declined" in told["text"] and told["data"]["options"] == [
        "another_card",
        "manual_checkout",
        "talk_to_human",
    ]
    done = dict(flow.compensations.values_list("action", "status"))
    assert done == {
        "cancel_checkout": "done",
        "release_spend": "done",
        "revoke_token": "done",
        "cancel_order": "not_needed",
    }


def test_3ds_required_waits_for_a_person_and_says_so(shop):
    flow = shop.start_flow(card="pm_alice_3ds")

    flow = confirm(shop, flow)

    assert flow.status == FlowStatus.REQUIRES_ACTION
    escalation = Escalation.objects.get(flow=flow)
    assert (escalation.reason, escalation.status) == ("payment_verification", "open")
    assert flow.conversation.status == ConversationStatus.ESCALATED
    assert "specialist is also looking at this" in messages(flow)[-1]["text"]
    # and the customer gets a link to their bank's check, our own page (it opens the challenge)
    assert messages(flow)[-1]["data"]["link"] == {
        "url": f"/api/v1/flows/{flow.pk}/payment-verification/",
        "label": "Verify the payment with your bank",
    }
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0
    # the specialist decides: the stock, the reservation and the unused token stay in place meanwhile
    assert session_status(flow.checkout_session_id) == "authentication_required"
    token = merchant_token(flow.checkout_session_id)
    assert not token.used and not token.revoked
    assert ledger(flow) == {"reserve": flow.total_amount, "commit": 0, "release": 0, "refund": 0}


def test_a_price_change_charges_nothing_and_shows_a_new_preview_to_confirm(shop):
    shop.sandbox.fault("price_change", times=1)
    flow = shop.start_flow()
    confirmed_total, confirmed_hash = flow.total_amount, flow.preview_hash

    flow = confirm(shop, flow)

    assert flow.status == FlowStatus.PREVIEWED
    assert flow.total_amount > confirmed_total and flow.preview_hash != confirmed_hash
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0
    assert merchant_token(flow.checkout_session_id).revoked
    assert ledger(flow) == {"reserve": confirmed_total, "commit": 0, "release": confirmed_total, "refund": 0}
    # the session stays open for the new preview, and confirming that one places the order
    assert session_status(flow.checkout_session_id) != "canceled"
    assert messages(flow)[-1]["data"]["preview_hash"] == flow.preview_hash

    flow = confirm(shop, flow)

    assert flow.status == FlowStatus.PLACED
    assert session_order(flow.checkout_session_id).total().amount == flow.total_amount
    assert ledger(flow)["commit"] == flow.total_amount


def test_flow_metrics_count_placed_and_failed_flows(shop, client):
    def metric(body: str, name: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith(name))

    body = client.get("/metrics").content.decode()
    placed, failed = metric(body, "ordering_flows_placed_total"), metric(body, "ordering_flows_failed_total")
    # the series exists at zero from process start (docs/operations.md): count, do not look for the name
    revoked = 'ordering_compensations_total{action="revoke_token",outcome="done"}'
    tokens_revoked = metric(body, revoked)

    confirm(shop, shop.start_flow())
    confirm(shop, shop.start_flow(card="pm_alice_decline"))

    body = client.get("/metrics").content.decode()
    assert metric(body, "ordering_flows_placed_total") == placed + 1
    assert metric(body, "ordering_flows_failed_total") == failed + 1
    assert metric(body, revoked) == tokens_revoked + 1


@pytest.mark.parametrize("removed", ["card", "address"])
def test_a_card_or_address_removed_after_the_preview_is_never_used(shop, removed):
    # The customer saw a preview paid with their Visa, then removed that card on the settings page and said
    # yes in the chat: the order went to the shop and charged the card they had just removed.
    from consent.services.wallet import address_remove, payment_method_remove

    before = available(BLUE_RUNNER_42)
    flow = shop.start_flow()
    if removed == "card":
        payment_method_remove(user_id=shop.alice.pk, payment_method_id=flow.payment_method_id)
    else:
        address_remove(user_id=shop.alice.pk, address_id=flow.shipping_address_id)

    flow = confirm(shop, flow)

    assert flow.status == FlowStatus.COMPENSATED
    assert flow.failure_code == f"{'payment_method' if removed == 'card' else 'address'}_removed"
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0
    assert session_status(flow.checkout_session_id) == "canceled"
    assert available(BLUE_RUNNER_42) == before
    assert ledger(flow)["commit"] == 0
    told = messages(flow)[-1]
    said = "Visa •••• 4242 from your saved cards" if removed == "card" else "“Home” from your saved addresses"
    assert said in told["text"] and "nothing was charged" in told["text"]
    entries, _ = activity_page(user_id=shop.alice.pk, limit=5)
    assert f"you had removed the {'card' if removed == 'card' else 'address'}" in entries[0].text
