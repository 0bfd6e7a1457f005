"""Each console action, posted as staff do, against real flows at the merchant (the in-memory fake merchant:
the merchant is not the subject here; an undo that fails is its checkout cancel answering 500, as the sandbox's
switchboard does, until `clear_faults()`; the same failure over HTTP is in tests/ordering/test_undo_recovery.py).

Every test checks the action's effect on the flow, the conversation and the audit log.
"""

from __future__ import annotations

import re
from html import unescape as html_unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from audit.models import AuditEvent
from consent.models import SpendEntry
from escalations.models import Escalation, PaymentVerification
from escalations.services import (
    REPLY_REPEAT_WINDOW,
    EscalationActionRefused,
    escalation_open,
    escalation_payment_verification_confirm,
)
from ordering.models import ConversationStatus, Message, OrderFlow
from ordering.services import conversation_start
from tests.escalations.conftest import act_url, detail_url, fresh, press
from tests.support.merchant_state import merchant_order_count, session_status


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


@pytest.fixture
def bobs_request_with_sam(shop, sam, sam_client):
    """Bob asked for a person in his chat, and sam claimed it."""
    bob = get_user_model().objects.get(username="bob")
    conversation = conversation_start(customer_id=bob.pk)
    escalation = escalation_open(reason="customer_request", customer_id=bob.pk, conversation_id=conversation.pk)
    press(sam_client, escalation, "claim")
    return fresh(escalation)


def _events(escalation: Escalation, action: str, **filters) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=action, **filters).filter(
            target_id__in=[str(escalation.pk), str(escalation.flow_id)]
        )
    )


def test_claiming_takes_the_escalation_and_is_audited(payment_verification, sam, sam_client):
    escalation = payment_verification

    response = press(sam_client, escalation, "claim")

    assert response == [f"You hold escalation #{escalation.pk} now."]
    escalation = fresh(escalation)
    assert (escalation.status, escalation.assignee_id) == ("claimed", sam.pk)
    assert escalation.claimed_at is not None and escalation.first_response_at is None
    event = AuditEvent.objects.get(action="escalation.claimed", target_id=str(escalation.pk))
    assert (event.actor_type, event.actor_id, event.customer_id) == ("staff", str(sam.pk), escalation.customer_id)
    assert event.origin_channel == "admin"
    # the staff action joins the flow's trace, so the trace timeline shows it
    assert event.trace_id == escalation.trace_id != ""


NOTE = "Called alice on the number on file; she read back the bank's code and confirmed the order."


def test_a_single_click_no_longer_places_a_3ds_payment(payment_verification_preferred, sam, sam_client, shop):
    escalation = payment_verification_preferred

    # the old one-click "payment verified" is refused, and says what is needed instead
    clicked = press(sam_client, escalation, "approve")
    # recording a verification without saying how is refused too
    no_note = press(sam_client, escalation, "verify_payment", {"note": "  "})
    recorded = press(sam_client, escalation, "verify_payment", {"note": NOTE})

    assert clicked == [
        "A payment verification needs evidence, not one click: record how you verified it with the customer and "
        "a second specialist confirms it, or the customer finishes their bank's check from the link in the chat."
    ]
    assert no_note == [
        "Write how you verified the payment with the customer (who you spoke to, how, what they confirmed)."
    ]
    assert recorded == [
        "Verification recorded. It takes effect when a second specialist confirms it; nothing is paid yet."
    ]
    flow = fresh(escalation.flow)
    assert flow.status == "requires_action" and flow.payment_attempt == 0 and flow.payment_verification_evidence == {}
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0
    [pending] = PaymentVerification.objects.filter(flow=flow)
    assert (pending.recorded_by_id, pending.note, pending.confirmed_at) == (sam.pk, NOTE, None)
    event = AuditEvent.objects.get(action="escalation.payment_verification_recorded", target_id=str(escalation.pk))
    assert (event.actor_id, event.data["note"]) == (str(sam.pk), NOTE)
    assert AuditEvent.objects.get(action="escalation.approve", target_id=str(escalation.pk)).outcome == "denied"
    # the console shows the pending state, and no confirm button for the one who recorded it
    page = sam_client.get(detail_url(escalation)).content.decode()
    assert "Waiting for a second specialist." in page and escape(NOTE) in page
    assert "Confirm the verification: pay and place" not in page
    assert "You recorded this verification yourself; a different specialist must confirm it." in page


def test_the_same_specialist_cannot_confirm_their_own_verification(payment_verification_preferred, sam, sam_client):
    escalation = payment_verification_preferred
    press(sam_client, escalation, "verify_payment", {"note": NOTE})

    twice = press(sam_client, escalation, "confirm_payment")
    again = press(sam_client, escalation, "verify_payment", {"note": "and again"})

    assert twice == ["You recorded this verification yourself; a different specialist must confirm it."]
    assert again == ["sam already recorded a verification of this payment; a second specialist confirms it."]
    flow = fresh(escalation.flow)
    assert flow.status == "requires_action" and flow.payment_verified_by == ""
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0
    assert PaymentVerification.objects.get(flow=flow).confirmed_at is None
    denied = AuditEvent.objects.get(action="escalation.confirm_payment", target_id=str(escalation.pk))
    assert (denied.outcome, denied.actor_id) == ("denied", str(sam.pk))


def test_a_second_approval_needs_the_permission_to_work_escalations(
    payment_verification_preferred, sam, sam_client, make_staff
):
    escalation = payment_verification_preferred
    press(sam_client, escalation, "verify_payment", {"note": NOTE})
    outsider = make_staff("outsider", support=False)  # staff, but not in the support group

    with pytest.raises(EscalationActionRefused, match="needs the permission to work escalations"):
        escalation_payment_verification_confirm(escalation_id=escalation.pk, staff_id=outsider.pk)

    assert fresh(escalation.flow).status == "requires_action"
    assert PaymentVerification.objects.get(flow=escalation.flow).confirmed_at is None


def test_two_different_specialists_place_a_3ds_payment_once(
    payment_verification_preferred, sam, sam_client, make_staff, otp_login, shop
):
    escalation = payment_verification_preferred
    kim = make_staff("kim")
    kim_client = otp_login(kim, client=Client())
    press(sam_client, escalation, "verify_payment", {"note": NOTE})

    # kim confirms while sam holds the escalation: the second approval is meant for someone else
    page = kim_client.get(detail_url(escalation)).content.decode()
    confirmed = press(kim_client, escalation, "confirm_payment")

    assert "Confirm the verification: pay and place" in page
    assert confirmed == [
        "Verification confirmed by a second specialist: the order is being paid again. The order is placed now."
    ]
    flow = fresh(escalation.flow)
    assert flow.status == "placed" and flow.payment_verified_by == f"{sam.pk}+{kim.pk}"
    assert flow.payment_verification_evidence["kind"] == "staff_two_person"
    assert flow.payment_verification_evidence["note"] == NOTE
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1
    verification = PaymentVerification.objects.get(flow=flow)
    assert (verification.recorded_by_id, verification.confirmed_by_id) == (sam.pk, kim.pk)
    verified = AuditEvent.objects.get(action="escalation.payment_verified", target_id=str(escalation.pk))
    assert (verified.actor_id, verified.data["recorded_by"], verified.data["confirmed_by"]) == (
        str(kim.pk),
        sam.pk,
        kim.pk,
    )
    staff_move = AuditEvent.objects.get(action="flow.placing", target_id=str(flow.pk), actor_type="staff")
    assert staff_move.actor_id == str(kim.pk) and staff_move.data["approved"] == "payment_verification"
    assert staff_move.data["evidence"]["recorded_by"] == sam.pk
    assert "order is placed" in flow.conversation.messages.filter(role="assistant").last().text
    # the evidence is on the order's card in the console
    assert "two specialists" in kim_client.get(detail_url(escalation)).content.decode()

    # pressed again (a double click): nothing more is placed, and it says why
    again = press(kim_client, escalation, "confirm_payment")

    assert again == ["The order is not waiting for a payment verification (it is placed)."]
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1


def test_two_specialists_cannot_pay_a_challenge_the_cards_issuer_mandates(
    payment_verification_unannounced, sam, sam_client, make_staff, otp_login, shop
):
    # given alice's 3-D Secure card, whose issuer mandates its own challenge, at a merchant that did not say so when it
    # asked for the check (ACP's flow_preference is optional): the console could not tell, and offered a verification
    escalation = payment_verification_unannounced
    assert "only the customer passing their bank's verification" not in fresh(escalation.flow).failure_detail
    press(sam_client, escalation, "verify_payment", {"note": NOTE})

    # when a second specialist confirms the verification
    confirmed = press(otp_login(make_staff("kim"), client=Client()), escalation, "confirm_payment")

    # then the merchant refuses `not_supported` for a mandated challenge: nothing is charged, the order waits for
    # the customer's bank verification again, and the console says why
    flow = fresh(escalation.flow)
    assert (flow.status, flow.waiting_for) == ("requires_action", "payment_verification")
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0
    assert session_status(flow.checkout_session_id) == "authentication_required"
    assert "The merchant refused the last verification" in flow.failure_detail
    assert "mandates 3-D Secure" in flow.failure_detail
    assert confirmed[0].startswith("Verification confirmed by a second specialist")
    assert "The merchant refused the last verification" in confirmed[0]


def test_approving_a_risk_review_places_the_order(risk_review, sam, sam_client):
    escalation = risk_review

    response = press(sam_client, escalation, "approve")

    assert response[0].startswith("Approved: the order is being placed.")
    flow = fresh(escalation.flow)
    assert flow.status == "placed" and flow.risk_approved_by == str(sam.pk)
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1
    assert AuditEvent.objects.filter(action="escalation.risk_approved", actor_id=str(sam.pk)).count() == 1
    assert AuditEvent.objects.filter(action="flow.placing", target_id=str(flow.pk), actor_type="staff").exists()


def test_canceling_the_order_undoes_its_holds(payment_verification, sam, sam_client, shop):
    escalation = payment_verification
    flow = escalation.flow
    reference = f"flow:{flow.pk}:r1"
    assert SpendEntry.objects.filter(flow_reference=reference, kind="reserve").exists()

    response = press(sam_client, escalation, "cancel_flow", {"note": "customer changed their mind"})

    assert response[0].startswith("Order canceled;")
    flow = fresh(flow)
    assert (flow.status, flow.failure_code) == ("canceled", "staff_canceled")
    assert session_status(flow.checkout_session_id) == "canceled"
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0
    assert SpendEntry.objects.filter(flow_reference=reference, kind="release").exists()
    canceled = AuditEvent.objects.get(action="flow.canceled", target_id=str(flow.pk))
    assert (canceled.actor_type, canceled.actor_id) == ("staff", str(sam.pk))
    event = AuditEvent.objects.get(action="escalation.flow_canceled", target_id=str(escalation.pk))
    assert event.data["note"] == "customer changed their mind"


def test_canceling_the_order_tells_the_customer_in_their_chat(payment_verification, sam, sam_client, shop):
    # given: alice's chat ends with the bank's check, whose link stops working once the order is canceled
    escalation = payment_verification
    conversation_id = escalation.flow.conversation_id
    last_seen = Message.objects.filter(conversation_id=conversation_id).order_by("id").last()
    assert last_seen.text.startswith("Your bank wants to verify this payment.")
    widget = Client()
    widget.force_login(shop.alice)

    # when: sam cancels the order, and presses again on the page still open
    press(sam_client, escalation, "cancel_flow")
    press(sam_client, escalation, "cancel_flow")

    # then: her chat says, once, what was canceled and that nothing was charged (the preview's own lines and total)
    events = widget.get(f"/api/v1/conversations/{conversation_id}/events/?after={last_seen.pk}").json()
    total = f"${escalation.flow.total_amount / 100:.2f}"
    assert [(m["role"], m["text"]) for m in events["messages"]] == [
        (
            "staff",
            f"I canceled your order of 1x Blue Runner (blue, 42) — {total}. Nothing was charged, and what it held "
            "against your spending limits is released. Ask me here if you need anything else.",
        )
    ]
    assert events["messages"][0]["kind"] == "flow_canceled"
    assert events["messages"][0]["flow_id"] == str(escalation.flow_id)


def test_canceling_an_order_that_failed_on_its_way_says_what_happens_to_a_payment(compensation_failed, sam_client):
    escalation = compensation_failed

    press(sam_client, escalation, "cancel_flow")

    [notice] = Message.objects.filter(conversation_id=escalation.flow.conversation_id, role="staff")
    assert notice.text.startswith("I canceled your order of 1x Blue Runner (blue, 42) — $")
    assert "If the shop took payment for it, that order is canceled with the shop and refunded in full." in notice.text
    assert "Nothing was charged" not in notice.text


def test_a_reply_reaches_the_customers_chat_through_the_events_api(payment_verification, sam, sam_client, shop):
    escalation = payment_verification
    conversation_id = escalation.flow.conversation_id
    last_seen = Message.objects.filter(conversation_id=conversation_id).order_by("id").last().pk
    widget = Client()
    widget.force_login(shop.alice)

    response = press(sam_client, escalation, "reply", {"text": "  Hi Alice, I'm checking with your bank.  "})
    events = widget.get(f"/api/v1/conversations/{conversation_id}/events/?after={last_seen}")

    assert response == ["Reply sent: alice sees it in their chat."]
    assert events.status_code == 200
    body = events.json()
    assert [(m["role"], m["text"]) for m in body["messages"]] == [("staff", "Hi Alice, I'm checking with your bank.")]
    assert body["status"] == "escalated"  # the widget keeps showing "a specialist is looking at this"
    message = Message.objects.get(pk=body["messages"][0]["id"])
    assert message.conversation_id == conversation_id
    assert fresh(escalation).first_response_at is not None
    assert AuditEvent.objects.filter(action="conversation.staff_replied", actor_id=str(sam.pk)).count() == 1
    assert AuditEvent.objects.get(action="escalation.replied").data["message_id"] == message.pk

    empty = press(sam_client, escalation, "reply", {"text": "   "})

    assert empty == ["Write a reply first."]
    assert Message.objects.filter(conversation_id=conversation_id, role="staff").count() == 1
    assert AuditEvent.objects.get(action="escalation.reply", outcome="denied").data["refused"] == "Write a reply first."


def test_a_reply_longer_than_a_chat_message_is_refused_and_html_is_sent_as_text(
    payment_verification, sam, sam_client, settings
):
    escalation = payment_verification
    pasted = "Traceback (most recent call last):\n" * 5000  # a log pasted by mistake

    too_long = press(sam_client, escalation, "reply", {"text": pasted})
    html = press(sam_client, escalation, "reply", {"text": "<b>Hi</b> <script>alert(1)</script>"})
    page = sam_client.get(detail_url(escalation)).content.decode()

    limit = settings.ORDERING_MESSAGE_MAX_CHARS
    assert too_long == [
        f"Nothing was sent: a reply is at most {limit:,} characters and this one has {len(pasted.strip()):,}. "
        "Shorten it, or send it in parts."
    ]
    staff_messages = Message.objects.filter(conversation_id=escalation.flow.conversation_id, role="staff")
    assert [message.text for message in staff_messages] == ["<b>Hi</b> <script>alert(1)</script>"]
    assert escape("<b>Hi</b> <script>alert(1)</script>") in page and "<script>alert(1)" not in page
    assert html == ["Reply sent: alice sees it in their chat."]
    assert AuditEvent.objects.filter(action="escalation.reply", outcome="denied", actor_id=str(sam.pk)).count() == 1


def test_a_reply_form_sent_twice_reaches_the_customer_once(payment_verification, sam, sam_client, wall_clock):
    # given: the reply form as the page draws it, with the text typed in
    escalation = payment_verification
    page = sam_client.get(detail_url(escalation)).content.decode()
    form = {**_form_fields(page, "reply"), "text": "Hi Alice, I'm on it."}

    # when: it is sent twice (a double click on "Send reply")
    first = press(sam_client, escalation, "reply", form)
    second = press(sam_client, escalation, "reply", form)

    # then: one message in the chat, one audit event; both answers say it was sent
    assert first == second == ["Reply sent: alice sees it in their chat."]
    staff_messages = Message.objects.filter(conversation_id=escalation.flow.conversation_id, role="staff")
    assert [message.text for message in staff_messages] == ["Hi Alice, I'm on it."]
    assert AuditEvent.objects.filter(action="escalation.replied", target_id=str(escalation.pk)).count() == 1
    assert AuditEvent.objects.filter(action="conversation.staff_replied", actor_id=str(sam.pk)).count() == 1

    # a new page draws a new form: the same words sent from it 10 minutes later are a second message
    wall_clock.advance(REPLY_REPEAT_WINDOW.total_seconds() + 1)
    again = {**_form_fields(sam_client.get(detail_url(escalation)).content.decode(), "reply"), "text": form["text"]}
    press(sam_client, escalation, "reply", again)
    assert staff_messages.all().count() == 2


def test_the_same_reply_sent_again_from_a_page_drawn_again_reaches_the_customer_once(
    payment_verification, sam, sam_client, make_staff, otp_login, wall_clock
):
    # given: sam sent a reply
    escalation = payment_verification
    text = "Hi Alice, I'm on it."
    first = press(
        sam_client, escalation, "reply", {**_form_fields(_page(sam_client, escalation), "reply"), "text": text}
    )
    sent_at = Message.objects.get(conversation_id=escalation.flow.conversation_id, role="staff").created_at

    # when: Back draws the page again (a new form, a new key) with the text the browser kept, and it is sent again
    wall_clock.advance(9 * 60)
    again = press(
        sam_client, escalation, "reply", {**_form_fields(_page(sam_client, escalation), "reply"), "text": text}
    )

    # then: alice has it once, and sam is told it was not sent again
    assert first == ["Reply sent: alice sees it in their chat."]
    assert again == [
        f"Not sent again: you sent this same reply at {timezone.localtime(sent_at):%H:%M}, and alice has it in their "
        "chat."
    ]
    staff_messages = Message.objects.filter(conversation_id=escalation.flow.conversation_id, role="staff")
    assert [message.text for message in staff_messages] == [text]
    assert AuditEvent.objects.filter(action="escalation.replied", target_id=str(escalation.pk)).count() == 1

    # other words are a new reply; the same words from a colleague who took it over are theirs to send
    press(sam_client, escalation, "reply", {**_form_fields(_page(sam_client, escalation), "reply"), "text": "And?"})
    kim_client = otp_login(make_staff("kim"), client=Client())
    press(kim_client, escalation, "claim", _form_fields(_page(kim_client, escalation), "claim"))
    press(kim_client, escalation, "reply", {**_form_fields(_page(kim_client, escalation), "reply"), "text": text})
    assert [message.text for message in staff_messages.all()] == [text, "And?", text]


def _page(client, escalation: Escalation) -> str:
    return client.get(detail_url(escalation)).content.decode()


def test_handing_back_returns_the_conversation_to_the_assistant(payment_verification, sam, sam_client):
    escalation = payment_verification
    press(sam_client, escalation, "cancel_flow")
    conversation = escalation.flow.conversation
    assert fresh(conversation).status == ConversationStatus.ESCALATED

    response = press(sam_client, escalation, "hand_back", {"note": "order canceled, nothing else to do"})

    assert response == [f"Escalation #{escalation.pk} handed back: the assistant answers alice again."]
    escalation = fresh(escalation)
    assert (escalation.status, escalation.resolution_code) == ("handed_back", "handed_back")
    assert escalation.resolved_at is not None and escalation.resolution_note == "order canceled, nothing else to do"
    assert fresh(conversation).status == ConversationStatus.ACTIVE
    assert conversation.messages.last().data == {"kind": "handed_back"}
    assert AuditEvent.objects.filter(action="conversation.handed_back", target_id=str(conversation.pk)).exists()
    assert AuditEvent.objects.filter(action="escalation.handed_back", target_id=str(escalation.pk)).exists()


def test_resolving_with_a_note_closes_it_once_the_order_is_settled(
    payment_verification_preferred, sam, sam_client, make_staff, otp_login
):
    escalation = payment_verification_preferred
    press(sam_client, escalation, "verify_payment", {"note": NOTE})
    press(otp_login(make_staff("kim"), client=Client()), escalation, "confirm_payment")

    no_note = press(sam_client, escalation, "resolve", {"code": "order_placed", "note": " "})
    response = press(
        sam_client, escalation, "resolve", {"code": "order_placed", "note": "Verified with alice by phone; placed."}
    )

    assert no_note == ["Write a short resolution note: what you did and why."]
    assert response == [f"Escalation #{escalation.pk} resolved."]
    escalation = fresh(escalation)
    assert (escalation.status, escalation.resolution_code) == ("resolved", "order_placed")
    assert escalation.resolution_note == "Verified with alice by phone; placed."
    assert escalation.first_response_at <= escalation.resolved_at
    # nobody holds the conversation any more: the assistant answers again
    assert fresh(escalation.flow.conversation).status == ConversationStatus.ACTIVE
    resolved = AuditEvent.objects.get(action="escalation.resolved", target_id=str(escalation.pk))
    assert resolved.data["code"] == "order_placed" and resolved.data["from"] == "claimed"


def test_set_priority_moves_the_sla_due_time(payment_verification, sam_client, settings):
    escalation = payment_verification
    assert escalation.priority == "high"

    response = press(sam_client, escalation, "set_priority", {"priority": "urgent"})

    assert response[0].startswith("Priority is urgent now; resolve by")
    updated = fresh(escalation)
    minutes = (updated.sla_due_at - updated.created_at).total_seconds() / 60
    assert updated.priority == "urgent" and round(minutes) == settings.ESCALATIONS_SLA_MINUTES["urgent"]
    event = AuditEvent.objects.get(action="escalation.priority_changed", target_id=str(escalation.pk))
    assert (event.data["from"], event.data["to"]) == ("high", "urgent")


# -- actions that do not fit are refused with a message, never a 500 ------------------------------


def test_an_unknown_priority_is_refused_and_audited(payment_verification, sam, sam_client):
    refused = press(sam_client, payment_verification, "set_priority", {"priority": "asap"})

    assert fresh(payment_verification).priority == "high"
    denied = AuditEvent.objects.filter(action="escalation.set_priority", outcome="denied", actor_id=str(sam.pk))
    assert [event.data["refused"] for event in denied] == refused
    assert refused == ["Unknown priority 'asap': choose urgent, high, normal or low."]


def test_closing_while_the_order_still_waits_for_a_decision_is_refused(risk_review, sam_client):
    escalation = risk_review

    hand_back = press(sam_client, escalation, "hand_back")
    resolve = press(sam_client, escalation, "resolve", {"code": "customer_helped", "note": "done"})

    expected = (
        "The order is still waiting for a specialist (escalated: a specialist's risk decision). You can press "
        "“Approve and place” or “Cancel the order”; then resolve this escalation or hand it back."
    )
    assert hand_back == [expected] and resolve == [expected]
    assert fresh(escalation).status == "open"
    assert fresh(escalation.flow.conversation).status == ConversationStatus.ESCALATED


def test_nothing_more_is_done_on_a_closed_escalation(payment_verification, sam_client):
    escalation = payment_verification
    press(sam_client, escalation, "cancel_flow")
    press(sam_client, escalation, "resolve", {"code": "order_canceled", "note": "canceled at alice's request"})

    shown = {
        action: press(sam_client, escalation, action, {"text": "hello"})
        for action in ("claim", "reply", "cancel_flow", "approve")
    }

    for messages in shown.values():
        assert messages == ["This escalation is already resolved; nothing more can be done on it."]
    # the chat has the cancellation's notice only: the reply was not sent
    staff_messages = Message.objects.filter(conversation_id=escalation.flow.conversation_id, role="staff")
    assert [message.text.startswith("I canceled your order") for message in staff_messages] == [True]


def test_an_escalation_held_by_a_colleague_must_be_taken_over_first(
    payment_verification_preferred, make_staff, otp_login, sam_client, sam
):
    escalation = payment_verification_preferred
    press(sam_client, escalation, "claim")
    kim = make_staff("kim")
    kim_client = otp_login(kim, client=type(sam_client)())

    refused = press(kim_client, escalation, "verify_payment", {"note": NOTE})
    page = kim_client.get(detail_url(escalation)).content.decode()
    taken = press(kim_client, escalation, "claim", _form_fields(page, "claim"))
    recorded = press(kim_client, escalation, "verify_payment", {"note": NOTE})
    confirmed = press(sam_client, escalation, "confirm_payment")

    assert refused == ["sam is working on this escalation. Take it over first if you need to act on it."]
    assert taken == [f"You took escalation #{escalation.pk} over from sam."]
    assert recorded[0].startswith("Verification recorded.")
    assert confirmed[0].startswith("Verification confirmed by a second specialist")
    assert fresh(escalation).assignee_id == kim.pk
    assert OrderFlow.objects.get(pk=escalation.flow_id).status == "placed"
    takeover = AuditEvent.objects.filter(action="escalation.claimed", target_id=str(escalation.pk)).first()
    assert takeover.data["previous_assignee"] == sam.pk and takeover.actor_id == str(kim.pk)


def _form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields of an action's form on the detail page, as the browser would send them."""
    form = re.search(rf'<form[^>]*/act/{action}/"[^>]*>(.*?)</form>', page, re.DOTALL).group(1)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    return {name: value for name, value in fields if name != "csrfmiddlewaretoken"}


def test_claim_pressed_on_a_page_that_showed_it_free_does_not_take_it_from_a_colleague(
    payment_verification, make_staff, otp_login, sam, sam_client
):
    # given: sam opened the escalation while nobody held it; kim claims it meanwhile
    escalation = payment_verification
    sams_page = sam_client.get(detail_url(escalation)).content.decode()
    kim = make_staff("kim")
    kim_client = otp_login(kim, client=Client())
    press(kim_client, escalation, "claim")

    # when: sam presses "Claim" on the page they still have open
    refused = press(sam_client, escalation, "claim", _form_fields(sams_page, "claim"))

    # then: kim keeps it, sam is told who has it and how to take it over, the attempt is audited
    assert len(refused) == 1
    assert refused[0].startswith("kim is working on this escalation (since ")
    assert refused[0].endswith("Open it and press “Take over from kim” if you need to act on it.")
    assert (fresh(escalation).assignee_id, fresh(escalation).status) == (kim.pk, "claimed")
    denied = AuditEvent.objects.get(action="escalation.claim", outcome="denied", actor_id=str(sam.pk))
    assert denied.data["refused"].startswith("kim is working on this escalation")
    assert AuditEvent.objects.filter(action="escalation.claimed", target_id=str(escalation.pk)).count() == 1


def test_unknown_actions_and_get_requests_are_refused(payment_verification, sam_client):
    assert sam_client.post(act_url(payment_verification, "delete")).status_code == 404
    opened = sam_client.get(act_url(payment_verification, "approve"))
    assert (opened.status_code, opened["Location"]) == (302, detail_url(payment_verification))
    assert sam_client.post("/admin/escalations/escalation/999999/act/claim/").status_code == 404
    assert fresh(payment_verification.flow).status == "requires_action"


# -- an undo that failed at the merchant ------------------------------------------------------------------


def test_retrying_failed_undo_steps_after_the_merchant_recovers(compensation_failed, sam, sam_client, shop):
    escalation = compensation_failed
    shop.sandbox.clear_faults()

    response = press(sam_client, escalation, "retry_compensations")

    assert response == ["The failed undo steps are running again. The order is compensated now."]
    flow = fresh(escalation.flow)
    assert flow.status == "compensated"
    assert dict(flow.compensations.values_list("action", "status"))["cancel_checkout"] == "done"
    assert session_status(flow.checkout_session_id) == "canceled"
    assert AuditEvent.objects.filter(action="escalation.compensations_retried", target_id=str(escalation.pk)).exists()
    assert AuditEvent.objects.filter(
        action="compensation.cancel_checkout", target_id=str(flow.pk), outcome="ok"
    ).exists()
    assert AuditEvent.objects.filter(action="flow.compensating", target_id=str(flow.pk), actor_type="staff").exists()


def test_actions_that_do_not_fit_the_reason_are_refused(payment_verification, compensation_failed, sam_client):
    retry = press(sam_client, payment_verification, "retry_compensations")
    approve = press(sam_client, compensation_failed, "approve")

    assert retry == [
        "Retry the failed step is for failed undo steps (compensation failed), not for “Payment needs verification”."
    ]
    assert approve == [
        "Approve and place is for risk reviews and payment verifications, not for “Undoing a failed order failed”."
    ]
    # nothing changed: not even the implicit claim
    assert fresh(payment_verification).status == fresh(compensation_failed).status == "open"
    assert fresh(payment_verification.flow).status == "requires_action"
    assert fresh(compensation_failed.flow).status == "escalated"
    assert set(AuditEvent.objects.filter(outcome="denied").values_list("action", flat=True)) == {
        "escalation.retry_compensations",
        "escalation.approve",
    }


def _reply_box(page: str) -> str:
    return html_unescape(re.search(r'<textarea id="esc-reply-text"[^>]*>(.*?)</textarea>', page, re.DOTALL).group(1))


def test_a_refused_reply_comes_back_in_the_reply_box_once(payment_verification, sam_client, settings):
    # given: sam typed a long answer, over what a chat message may hold
    escalation = payment_verification
    typed = "Hi Alice, about your payment: " + "the bank asked for a second check. " * 80
    settings.ORDERING_MESSAGE_MAX_CHARS = 500

    def send(text: str, escalation: Escalation = escalation) -> tuple[list[str], str]:
        landed = sam_client.post(act_url(escalation, "reply"), {"text": text}, follow=True)
        return [str(message) for message in landed.context["messages"]], landed.content.decode()

    refused, page = send(typed)
    again = sam_client.get(detail_url(escalation)).content.decode()

    # then: the page that tells why shows the text to shorten, not an empty box (it was lost); shown once
    assert refused[0].startswith("Nothing was sent: a reply is at most 500 characters")
    assert _reply_box(page) == typed
    assert _reply_box(again) == ""
    # another escalation's page does not get it
    other = Escalation.objects.create(customer=escalation.customer, reason=escalation.reason)
    sam_client.post(act_url(escalation, "reply"), {"text": typed})
    assert "the bank asked for a second check" not in sam_client.get(detail_url(other)).content.decode()
    assert _reply_box(sam_client.get(detail_url(escalation)).content.decode()) == typed
    # a log pasted by mistake comes back cut to the first 20,000 characters, which the session keeps
    pasted = "Traceback (most recent call last):\n" * 5000
    _, page = send(pasted)
    assert _reply_box(page) == pasted[:20_000]
    # a reply sent leaves the box empty
    sent, page = send("Hi Alice, all sorted.")
    assert sent == ["Reply sent: alice sees it in their chat."] and _reply_box(page) == ""


def _kept_reply(page: str) -> str | None:
    found = re.search(r'<textarea id="esc-reply-kept-text"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    return html_unescape(found.group(1)) if found else None


def test_a_reply_refused_because_a_colleague_took_over_comes_back_after_taking_it_back(
    payment_verification, sam, sam_client, make_staff, otp_login
):
    # given: sam holds the escalation and is typing; kim takes it over meanwhile
    escalation = payment_verification
    press(sam_client, escalation, "claim")
    kim_client = otp_login(make_staff("kim"), client=Client())
    press(kim_client, escalation, "claim", _form_fields(_page(kim_client, escalation), "claim"))
    typed = "Hi Alice, <your bank> asked us to check one more thing & we're on it."

    # when: sam sends the reply
    landed = sam_client.post(act_url(escalation, "reply"), {"text": typed}, follow=True)

    # then: it is refused, and the page (which has no reply box while kim holds it) shows it kept, as often as drawn
    assert [str(message) for message in landed.context["messages"]] == [
        "kim is working on this escalation. Take it over first if you need to act on it."
    ]
    page = landed.content.decode()
    assert 'id="esc-reply-text"' not in page
    assert _kept_reply(page) == typed and "take the escalation over" in page
    assert _kept_reply(_page(sam_client, escalation)) == typed
    assert not Message.objects.filter(conversation_id=escalation.flow.conversation_id, role="staff").exists()

    # when: sam takes it back, the reply box has it, once
    taken = sam_client.post(
        act_url(escalation, "claim"), _form_fields(_page(sam_client, escalation), "claim"), follow=True
    ).content.decode()
    assert _reply_box(taken) == typed and _kept_reply(taken) is None
    assert _reply_box(_page(sam_client, escalation)) == ""


def test_a_reply_refused_because_the_escalation_was_closed_is_shown_once_to_copy(
    bobs_request_with_sam, sam_client, make_staff, otp_login
):
    # given: kim took bob's request over from sam and resolved it while sam was typing
    escalation = bobs_request_with_sam
    kim_client = otp_login(make_staff("kim"), client=Client())
    press(kim_client, escalation, "claim", _form_fields(_page(kim_client, escalation), "claim"))
    press(kim_client, escalation, "resolve", {"code": "customer_helped", "note": "Answered by phone."})

    # when: sam sends the reply
    landed = sam_client.post(act_url(escalation, "reply"), {"text": "Hi Bob, about returns:"}, follow=True)

    # then: nothing is sent, and the page shows the text once, to copy (the box never comes back on a closed one)
    page = landed.content.decode()
    assert "This escalation is already resolved" in page
    assert _kept_reply(page) == "Hi Bob, about returns:" and "copy it if you still need it" in page
    assert _kept_reply(_page(sam_client, escalation)) is None
    assert not Message.objects.filter(conversation_id=escalation.conversation_id, role="staff").exists()


def _resolution_options(page: str) -> list[str]:
    select = re.search(r'<select id="esc-resolve-code" name="code">(.*?)</select>', page, re.DOTALL).group(1)
    return re.findall(r'<option value="([^"]+)"', select)


def test_a_resolution_the_order_contradicts_is_refused(payment_verification, sam, sam_client):
    # given: sam canceled the order
    escalation = payment_verification
    press(sam_client, escalation, "cancel_flow")

    # when: "Order placed" is sent anyway (a page drawn before, a wrong pick)
    placed = press(sam_client, escalation, "resolve", {"code": "order_placed", "note": "Placed it for her."})

    # then: refused and audited, the escalation still open; the form offers only what fits a canceled order
    assert placed == [
        "“Order placed” does not fit: the order is canceled. Choose the resolution that says what happened to it."
    ]
    assert (fresh(escalation).status, fresh(escalation).resolution_code) == ("claimed", "")
    denied = AuditEvent.objects.get(action="escalation.resolve", outcome="denied", actor_id=str(sam.pk))
    assert denied.data["refused"] == placed[0]
    options = _resolution_options(_page(sam_client, escalation))
    assert "order_placed" not in options and {"order_canceled", "customer_helped"} <= set(options)

    canceled = press(sam_client, escalation, "resolve", {"code": "order_canceled", "note": "Canceled at her request."})
    assert canceled == [f"Escalation #{escalation.pk} resolved."]
    assert fresh(escalation).resolution_code == "order_canceled"


def test_an_order_resolution_needs_an_order(bobs_request_with_sam, sam_client):
    refused = press(sam_client, bobs_request_with_sam, "resolve", {"code": "order_canceled", "note": "Done."})

    assert refused == [
        "“Order canceled” is for an escalation about an order, and this one has none: choose what you did instead."
    ]
    assert fresh(bobs_request_with_sam).status == "claimed"
    assert "order_canceled" not in _resolution_options(_page(sam_client, bobs_request_with_sam))


def test_a_note_over_two_thousand_characters_is_refused(bobs_request_with_sam, sam, sam_client):
    escalation = bobs_request_with_sam
    pasted = "x" * 200_000

    resolve = press(sam_client, escalation, "resolve", {"code": "customer_helped", "note": pasted})
    hand_back = press(sam_client, escalation, "hand_back", {"note": pasted})

    expected = "Nothing was saved: a note is at most 2,000 characters and this one has 200,000. Shorten it."
    assert resolve == hand_back == [expected]
    assert (fresh(escalation).status, fresh(escalation).resolution_note) == ("claimed", "")
    assert AuditEvent.objects.filter(outcome="denied", actor_id=str(sam.pk)).count() == 2

    done = press(sam_client, escalation, "resolve", {"code": "customer_helped", "note": "y" * 2_000})
    assert done == [f"Escalation #{escalation.pk} resolved."]
    assert fresh(escalation).resolution_note == "y" * 2_000


def test_a_verification_note_over_two_thousand_characters_is_refused(payment_verification, sam_client):
    refused = press(sam_client, payment_verification, "verify_payment", {"note": NOTE * 100})

    assert refused == [
        f"Nothing was saved: a note is at most 2,000 characters and this one has {len(NOTE * 100):,}. Shorten it."
    ]
    assert not PaymentVerification.objects.filter(flow=payment_verification.flow).exists()
