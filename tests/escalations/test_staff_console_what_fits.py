"""What the escalation's page says and what it offers agree, for every reason and every state of its order.

Found by a walkthrough of the console as support staff: a 3-D Secure escalation whose card issuer mandates its own
challenge said "a verification by two specialists will be refused" and offered that verification anyway; and a page
that could not be closed yet told staff to "approve it, retry it or cancel it first" where it had no Approve and no
Retry button (a payment verification, a failed undo, a customer's request about an order another escalation decides).

Each case is drawn for the specialist who holds the escalation, as the console draws it. The rule the tests check: an
action the page's words tell staff to take is a button on that page (named “in quotes” as its button is labelled),
and the words "approve" and "retry" appear only where those buttons are. The merchant is the in-memory fake (the
sandbox's rules; tests/merchant_client/test_fake_merchant_parity.py).
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import transaction
from django.test import Client

from audit.models import ActorType, AuditEvent
from escalations.models import Escalation, PaymentVerification
from escalations.services import EscalationActionRefused, escalation_open, escalation_payment_verification_record
from ordering.models import EscalationReason, FlowStatus, OrderFlow, WaitingFor
from ordering.services import flow_confirm
from ordering.transitions import flow_transition
from tests.escalations.conftest import _confirm, detail_url, fresh, press
from tests.support.merchant_state import merchant_order_count

pytestmark = pytest.mark.usefixtures("eager_tasks")

VERIFY = "Payment verified (needs a second specialist)"
CONFIRM = "Confirm the verification: pay and place"
APPROVE = "Approve and place"
RETRY = "Retry the failed undo steps"
CANCEL = "Cancel the order"


@pytest.fixture
def shop(fake_shop):
    return fake_shop


def _text(html: str) -> str:
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()
    return re.sub(r" ([:.,;)])", r"\1", text)


def _aside(page: str) -> str:
    return page.split('id="esc-actions"', 1)[1].split("</aside>", 1)[0]


def buttons(page: str) -> list[str]:
    """The labels of the action buttons the page offers."""
    return [unescape(label) for label in re.findall(r'<input type="submit"[^>]* value="([^"]*)"', _aside(page))]


def words(page: str) -> str:
    """What the actions column tells staff (its hints and explanations), as read."""
    aside = _aside(page)
    # the forms' own explanations sit under their buttons; the rest is what the page says to do
    said = re.findall(r'<(div|p) class="esc-(?:hint|why|muted)"[^>]*>(.*?)</\1>', aside, re.S)
    return " ".join(_text(body) for _, body in said)


def close_hint(page: str) -> str:
    """Why the page cannot be closed yet, and what to do about it."""
    return _text(page.split('id="esc-close-hint">', 1)[1].split("</div>", 1)[0])


def assert_says_only_what_it_offers(page: str) -> None:
    offered, said = buttons(page), words(page)
    for named in re.findall(r"“([^”]+)”", said):
        assert named in offered, f"the page names “{named}” but offers {offered}: {said}"
    if APPROVE not in offered:
        assert not re.search(r"\bapprove", said, re.I), said
    if RETRY not in offered:
        assert not re.search(r"\bretry", said, re.I), said


def page_of(client, escalation: Escalation) -> str:
    response = client.get(detail_url(escalation))
    assert response.status_code == 200
    return response.content.decode()


def _move(flow: OrderFlow, *steps: tuple[FlowStatus, WaitingFor | None]) -> OrderFlow:
    """Put a flow into a state the saga reaches over the wire (a step outcome it could not record, a merchant
    still completing), through ordering's own transition helper."""
    with transaction.atomic():
        locked = OrderFlow.objects.select_for_update().get(pk=flow.pk)
        for status, waiting_for in steps:
            flow_transition(locked, status, actor_type=ActorType.SYSTEM, waiting_for=waiting_for)
    return fresh(flow)


# -- 1. a verification the merchant said it will refuse is not offered ---------------------------------------------


def test_a_verification_by_two_specialists_is_not_offered_where_the_cards_issuer_mandates_its_challenge(
    payment_verification, sam, sam_client
):
    # given: alice's 3-D Secure card, whose issuer mandates its own challenge; the merchant said so when it asked
    escalation = payment_verification
    assert "a verification by two specialists will be refused" in escalation.detail
    press(sam_client, escalation, "claim")

    # when: sam opens the escalation
    page = page_of(sam_client, escalation)

    # then: the verification form is not there; the page says why and what to do instead, with the cancel button
    assert VERIFY not in buttons(page) and CONFIRM not in buttons(page)
    assert 'id="esc-verify-note"' not in page
    not_offered = _text(page.split('id="esc-verify-not-offered">', 1)[1].split("</div>", 1)[0])
    assert not_offered == (
        "The card's issuer mandates its own 3-D Secure check for this payment (the merchant said so), so the "
        "merchant refuses a verification by two specialists. Instead, ask alice to finish their bank's check from "
        "the link in the chat, or cancel the order."
    )
    assert CANCEL in buttons(page)
    assert "otherwise two specialists" not in page
    assert_says_only_what_it_offers(page)


def test_a_verification_sent_anyway_where_the_issuer_mandates_its_challenge_is_refused_and_audited(
    payment_verification, sam, sam_client
):
    escalation = payment_verification

    # when: sam sends the form of an older page, or calls the service
    refused = press(sam_client, escalation, "verify_payment", {"note": "Called alice; she confirmed."})
    one_click = press(sam_client, escalation, "approve")
    with pytest.raises(EscalationActionRefused, match=r"^The card's issuer mandates its own 3-D Secure check"):
        escalation_payment_verification_record(escalation_id=escalation.pk, staff_id=sam.pk, note="Again.")

    # then: nothing is recorded or paid, and both attempts are in the log as denied
    assert refused[0].startswith("The card's issuer mandates its own 3-D Secure check for this payment")
    assert one_click == refused  # the one click says the same, not "record how you verified it"
    flow = fresh(escalation.flow)
    assert not PaymentVerification.objects.filter(flow=flow).exists()
    assert (flow.status, flow.waiting_for) == ("requires_action", "payment_verification")
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0
    denied = AuditEvent.objects.filter(action="escalation.verify_payment", target_id=str(escalation.pk))
    assert [event.outcome for event in denied] == ["denied", "denied"]


def test_where_the_merchant_only_prefers_the_challenge_the_verification_is_offered(
    payment_verification_preferred, sam_client
):
    escalation = payment_verification_preferred
    press(sam_client, escalation, "claim")

    page = page_of(sam_client, escalation)

    assert VERIFY in buttons(page) and CANCEL in buttons(page)
    assert 'id="esc-verify-not-offered"' not in page
    assert_says_only_what_it_offers(page)


def test_where_the_merchant_does_not_say_whose_challenge_it_is_the_verification_is_offered(
    payment_verification_unannounced, sam_client
):
    # ACP's flow_preference is optional: without it the console cannot tell, so the first verification is offered
    escalation = payment_verification_unannounced
    assert "mandates" not in escalation.detail
    press(sam_client, escalation, "claim")

    assert VERIFY in buttons(page_of(sam_client, escalation))


# -- 2. what the page says it cannot do yet, and what to do instead, for every reason and state --------------------


def _risk_review(shop, settings) -> Escalation:
    settings.ORDERING_RISK_REVIEW_SCORE = 10
    flow = _confirm(shop)
    assert (flow.status, flow.waiting_for) == ("escalated", "risk_review")
    return Escalation.objects.get(flow=flow, reason="risk_review")


def _three_ds(shop, *, mandated: bool) -> Escalation:
    if not mandated:
        shop.merchant_prefers_3ds()
    flow = _confirm(shop, card="pm_alice_3ds" if mandated else "pm_alice_visa")
    assert (flow.status, flow.waiting_for) == ("requires_action", "payment_verification")
    return Escalation.objects.get(flow=flow, reason="payment_verification")


def _undo_failed(shop, settings) -> Escalation:
    settings.ORDERING_UNDO_GIVE_UP_SECONDS = 0
    shop.sandbox.add_fault("server_error", operation="cancel", times=50)
    flow = _confirm(shop, card="pm_alice_decline")
    assert (flow.status, flow.waiting_for) == ("escalated", "specialist")
    return Escalation.objects.get(flow=flow, reason="compensation_failed")


def _customer_asks_about(escalation: Escalation) -> Escalation:
    flow = escalation.flow
    return escalation_open(
        reason=EscalationReason.CUSTOMER_REQUEST,
        customer_id=flow.customer_id,
        flow_id=flow.pk,
        conversation_id=flow.conversation_id,
    )


def test_a_risk_review_that_waits_names_approve_and_cancel_and_nothing_else(shop, settings, sam_client):
    escalation = _risk_review(shop, settings)
    press(sam_client, escalation, "claim")

    page = page_of(sam_client, escalation)

    assert {APPROVE, CANCEL} <= set(buttons(page)) and RETRY not in buttons(page)
    assert close_hint(page) == (
        "The order is still waiting for a specialist (escalated: a specialist's risk decision). "
        f"You can press “{APPROVE}” or “{CANCEL}”; then resolve this escalation or hand it back."
    )
    assert_says_only_what_it_offers(page)


@pytest.mark.parametrize("mandated", [True, False], ids=["issuer_mandates", "merchant_prefers"])
def test_a_payment_verification_that_waits_names_the_bank_check_and_its_own_buttons(shop, sam_client, mandated):
    escalation = _three_ds(shop, mandated=mandated)
    press(sam_client, escalation, "claim")

    page = page_of(sam_client, escalation)

    said = words(page)
    assert "The customer can finish their bank's check from the link in the chat" in said
    assert f"“{CANCEL}”" in said
    assert (f"“{VERIFY}”" in said) is (not mandated)
    assert_says_only_what_it_offers(page)


def test_a_failed_undo_that_waits_names_retry_and_cancel_and_not_approve(shop, settings, sam_client):
    escalation = _undo_failed(shop, settings)
    press(sam_client, escalation, "claim")

    page = page_of(sam_client, escalation)

    assert {RETRY, CANCEL} <= set(buttons(page)) and APPROVE not in buttons(page)
    assert close_hint(page) == (
        "The order is still waiting for a specialist (escalated: a specialist to repair it). "
        f"You can press “{RETRY}” or “{CANCEL}”; then resolve this escalation or hand it back."
    )
    assert_says_only_what_it_offers(page)


def test_an_order_the_assistant_could_not_record_names_only_cancel(shop, sam_client):
    # given: a step's outcome the saga could not record: the order is escalated for a specialist to repair it
    flow = _move(
        shop.start_flow(),
        (FlowStatus.CONFIRMED, None),
        (FlowStatus.PLACING, None),
        (FlowStatus.ESCALATED, WaitingFor.SPECIALIST),
    )
    escalation = escalation_open(
        reason="agent_stuck", customer_id=flow.customer_id, flow_id=flow.pk, detail="recording the outcome failed"
    )
    press(sam_client, escalation, "claim")

    page = page_of(sam_client, escalation)

    assert buttons(page).count(CANCEL) == 1 and APPROVE not in buttons(page) and RETRY not in buttons(page)
    assert close_hint(page) == (
        "The order is still waiting for a specialist (escalated: a specialist to repair it). "
        f"You can press “{CANCEL}”; then resolve this escalation or hand it back."
    )
    assert_says_only_what_it_offers(page)


def test_an_order_the_shop_is_still_completing_says_to_check_with_the_shop_and_promises_no_button(shop, sam_client):
    flow = _move(shop.start_flow(), (FlowStatus.CONFIRMED, None), (FlowStatus.PLACING, None))
    escalation = escalation_open(
        reason="merchant_unavailable", customer_id=flow.customer_id, flow_id=flow.pk, detail="the shop says nothing"
    )
    press(sam_client, escalation, "claim")

    page = page_of(sam_client, escalation)

    assert CANCEL not in buttons(page) and APPROVE not in buttons(page) and RETRY not in buttons(page)
    said = words(page)
    assert "The shop has not said yet whether it placed and charged this order: check with the shop." in said
    assert "cancel" not in said.lower()
    assert_says_only_what_it_offers(page)


@pytest.mark.parametrize("decided_by", ["risk_review", "payment_verification"])
def test_a_customers_request_about_an_order_another_escalation_decides_points_to_that_escalation(
    shop, settings, sam_client, decided_by
):
    # given: alice asked for a person while her order waits for a decision taken on its own escalation
    deciding = _risk_review(shop, settings) if decided_by == "risk_review" else _three_ds(shop, mandated=False)
    escalation = _customer_asks_about(deciding)
    press(sam_client, escalation, "claim")

    page = page_of(sam_client, escalation)

    # then: its page offers no approval nor verification of its own, and says where they are
    assert APPROVE not in buttons(page) and VERIFY not in buttons(page) and CANCEL in buttons(page)
    said = words(page)
    assert f"escalation #{deciding.pk} ({deciding.get_reason_display()})" in said
    assert f'href="{detail_url(deciding)}"' in _aside(page)
    assert_says_only_what_it_offers(page)


def test_a_customers_request_about_an_order_that_waits_for_her_step_up_code_may_be_closed(shop, settings, sam_client):
    settings.ORDERING_RISK_STEP_UP_SCORE = 10
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    flow = fresh(flow)
    assert (flow.status, flow.waiting_for) == ("requires_action", "step_up")
    escalation = escalation_open(
        reason="customer_request", customer_id=flow.customer_id, flow_id=flow.pk, conversation_id=flow.conversation_id
    )
    press(sam_client, escalation, "claim")

    page = page_of(sam_client, escalation)

    assert {"Resolve", "Hand back to the assistant", CANCEL} <= set(buttons(page))
    assert_says_only_what_it_offers(page)


def test_a_colleagues_page_says_to_take_it_over_and_offers_that(shop, settings, sam_client, make_staff, otp_login):
    escalation = _risk_review(shop, settings)
    press(sam_client, escalation, "claim")
    kim_client = otp_login(make_staff("kim"), client=Client())

    page = page_of(kim_client, escalation)

    assert buttons(page)[0] == "Take over from sam" and APPROVE not in buttons(page)
    assert "Take it over first" in words(page)
    assert_says_only_what_it_offers(page)


def test_an_undo_that_failed_after_a_cancel_is_not_offered_as_completed(shop, settings, sam_client):
    # given: sam canceled an order while the shop's checkout cancel kept failing: the order is canceled, its stock
    # hold still held at the shop, and a failed-undo escalation asks for a person
    settings.ORDERING_UNDO_GIVE_UP_SECONDS = 0
    escalation = _three_ds(shop, mandated=True)
    shop.sandbox.add_fault("server_error", operation="cancel", times=50)
    press(sam_client, escalation, "cancel_flow")
    flow = fresh(escalation.flow)
    assert flow.status == "canceled"
    undo = Escalation.objects.get(flow=flow, reason="compensation_failed")
    press(sam_client, undo, "claim")

    page = page_of(sam_client, undo)

    # then: retrying is offered, and resolving says what is true: not "Undo completed" while a step still failed
    assert RETRY in buttons(page)
    codes = re.findall(r'<option value="([a-z_]+)"', page.split('id="esc-resolve-code"', 1)[1].split("</select>", 1)[0])
    assert "undo_completed" not in codes and "order_canceled" in codes
    refused = press(sam_client, undo, "resolve", {"code": "undo_completed", "note": "done"})
    assert refused == [
        "“Undo completed” does not fit: an undo step of this order still failed (cancel_checkout). Press “Retry "
        "the failed undo steps” once the shop answers, or choose what you did instead."
    ]
    assert_says_only_what_it_offers(page)
