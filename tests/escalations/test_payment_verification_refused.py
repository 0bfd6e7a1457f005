"""A verification by two specialists that the merchant refuses (alice's Mastercard ending 3220, whose issuer mandates
its own 3-D Secure challenge, at a merchant that did not say so when it asked for the check: ACP's flow_preference is
optional, so the console offered the verification): what the console offers afterwards, what alice is told, and how
the order's page tells what happened. The merchant is the in-memory fake (its refusal of `not_supported` for a
mandated challenge matches the sandbox's: tests/merchant_client/test_fake_merchant_parity.py). Where the merchant does
say the issuer mandates it, the verification is not offered at all: tests/escalations/test_staff_console_what_fits.py.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from escalations.models import Escalation, PaymentVerification
from escalations.services import EscalationActionRefused, escalation_payment_verification_record
from ordering.models import Message
from tests.escalations.conftest import detail_url, fresh, press
from tests.support.merchant_state import merchant_order_count

NOTE = "Called alice on the number on file; she confirmed the order and read back the bank's code."
BANK_ASKS = "Your bank wants to verify this payment."
VERIFY_BUTTON = "Payment verified (needs a second specialist)"


@pytest.fixture
def shop(fake_shop):
    return fake_shop


@pytest.fixture
def kim(make_staff):
    return make_staff("kim")


@pytest.fixture
def kim_client(kim, otp_login):
    return otp_login(kim, client=Client())


def _verify_twice_over(escalation: Escalation, sam_client, kim_client) -> list[str]:
    """sam records a verification and kim confirms it; the merchant refuses it. Returns what kim's page said."""
    recorded = press(sam_client, escalation, "verify_payment", {"note": NOTE})
    assert recorded == [
        "Verification recorded. It takes effect when a second specialist confirms it; nothing is paid yet."
    ]
    return press(kim_client, escalation, "confirm_payment")


def _text(html: str) -> str:
    """What a person reads of some HTML: tags gone, blanks squeezed (`<strong>merchant</strong>:` reads `merchant:`)."""
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()
    return re.sub(r" ([:.,])", r"\1", text)


def _section(page: str, section_id: str) -> str:
    """The text of one card (or cell, or box) of the detail page."""
    match = re.search(rf'<(section|table|td|div)[^>]*id="{section_id}"[^>]*>(.*?)</\1>', page, re.S)
    assert match, f"no #{section_id} on the page"
    return _text(match.group(2))


def _page(client, escalation: Escalation) -> str:
    response = client.get(detail_url(escalation))
    assert response.status_code == 200
    return response.content.decode()


# -- 1. the console does not offer what the merchant already refused -------------------------------------------


def test_after_the_merchant_refused_two_specialists_recording_another_is_not_offered(
    payment_verification_unannounced, sam, sam_client, kim, kim_client
):
    # given: sam and kim verified alice's payment, and the merchant refused it (the issuer mandates its own check)
    escalation = payment_verification_unannounced
    _verify_twice_over(escalation, sam_client, kim_client)
    flow = fresh(escalation.flow)
    assert (flow.status, flow.waiting_for, flow.payment_attempt) == ("requires_action", "payment_verification", 1)

    # when: either of them opens the escalation again
    pages = {"sam": _page(sam_client, escalation), "kim": _page(kim_client, escalation)}

    # then: the form is not there; the page says why and what to do instead, and cancelling is still offered
    for page in pages.values():
        assert VERIFY_BUTTON not in page
        assert 'name="note" rows="3" required' not in page  # no verification note box either
        not_offered = _section(page, "esc-verify-not-offered")
        assert not_offered.startswith(
            "The merchant refused this order's verification by two specialists (sam recorded, kim confirmed, at "
        )
        assert not_offered.endswith(
            "), so another would be refused the same way. Instead, ask alice to finish their bank's check from the "
            "link in the chat, or cancel the order."
        )
        assert "Confirm the verification: pay and place" not in page
    # sam holds it and may cancel it; kim would take it over first
    assert "Cancel the order" in pages["sam"]
    assert "Take over from sam" in pages["kim"] and "Cancel the order" not in pages["kim"]


def test_a_verification_sent_from_a_page_drawn_before_the_refusal_is_refused_and_audited(
    payment_verification_unannounced, sam, sam_client, kim, kim_client
):
    escalation = payment_verification_unannounced
    _verify_twice_over(escalation, sam_client, kim_client)

    # when: sam sends the form of a page drawn before the merchant's answer (or calls the service)
    again = press(sam_client, escalation, "verify_payment", {"note": "And once more."})
    with pytest.raises(EscalationActionRefused, match=r"^The merchant refused this order's verification"):
        escalation_payment_verification_record(escalation_id=escalation.pk, staff_id=sam.pk, note="Third time.")

    # then: nothing is recorded, nothing is paid, and both attempts are in the log as denied
    assert len(again) == 1 and again[0].startswith("The merchant refused this order's verification by two specialists")
    flow = fresh(escalation.flow)
    assert PaymentVerification.objects.filter(flow=flow).count() == 1
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0
    denied = AuditEvent.objects.filter(action="escalation.verify_payment", target_id=str(escalation.pk))
    assert [event.outcome for event in denied] == ["denied", "denied"]


def test_where_the_merchant_takes_two_specialists_the_form_stays_until_one_is_recorded(
    payment_verification_preferred, sam_client
):
    # a challenge the merchant only prefers: nothing was refused, so recording a verification is offered as before
    page = _page(sam_client, payment_verification_preferred)

    assert VERIFY_BUTTON in page
    assert 'id="esc-verify-not-offered"' not in page


# -- 2. alice is asked once --------------------------------------------------------------------------------------


def test_a_refused_verification_does_not_ask_the_customer_again_what_she_was_just_asked(
    payment_verification_unannounced, sam_client, kim_client
):
    escalation = payment_verification_unannounced
    conversation_id = escalation.flow.conversation_id

    _verify_twice_over(escalation, sam_client, kim_client)

    asked = Message.objects.filter(conversation_id=conversation_id, text__startswith=BANK_ASKS)
    assert asked.count() == 1
    last = Message.objects.filter(conversation_id=conversation_id).order_by("id").last()
    assert last == asked.get()  # still the last thing she was told, with its link
    assert last.data["link"]["url"] == reverse("flow-payment-verification", args=[escalation.flow_id])


# -- 3. the steps table tells a refused attempt as what it was ---------------------------------------------------


def test_the_steps_table_shows_the_merchants_refusals_not_success(
    payment_verification_unannounced, sam_client, kim_client
):
    escalation = payment_verification_unannounced
    _verify_twice_over(escalation, sam_client, kim_client)

    page = _page(sam_client, escalation)

    steps = [
        _text(row)
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page.split('id="esc-steps"')[1].split("</table>")[0], re.S)[1:]
    ]
    completes = [row for row in steps if row.startswith("complete_checkout")]
    assert len(completes) == 2
    first, second = completes
    assert first.startswith("complete_checkout 1 Needs 3-D Secure ")
    assert "merchant: The card issuer asked for 3-D Secure verification." in first
    assert second.startswith("complete_checkout 2 Refused by the merchant ")
    assert "merchant: The merchant refused the last verification: The card issuer mandates 3-D Secure" in second
    assert not any("complete_checkout" in row and "Succeeded" in row for row in steps)
    # both rows are marked like a failed step
    assert page.count('class="esc-step-failed"') >= 2


# -- 4. the order card says the verification was refused; the stop reason's text is its own ----------------------


def test_the_order_card_says_the_merchant_refused_the_verification_and_why_the_order_stopped(
    payment_verification_unannounced, sam, sam_client, kim_client
):
    escalation = payment_verification_unannounced
    _verify_twice_over(escalation, sam_client, kim_client)
    refused_page = _page(sam_client, escalation)

    press(sam_client, escalation, "cancel_flow")
    canceled_page = _page(sam_client, escalation)

    for page in (refused_page, canceled_page):
        assert "Payment verified by" not in page
        verification = _section(page, "esc-verification-evidence")
        assert verification.startswith(
            f"two specialists (sam recorded, kim confirmed): “{NOTE}”. The merchant refused it at "
        )
        assert ", and nothing was charged: The card issuer mandates 3-D Secure for this payment" in verification
        assert "<th>Verification refused by the merchant</th>" in page
    assert fresh(escalation.flow).status == "canceled"
    stopped = _section(canceled_page, "esc-stop-reason")
    assert re.fullmatch(r"staff_canceled: Canceled by sam \(staff\) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.", stopped)
    # a canceled order's page no longer points to the bank's link or to two specialists
    assert "from the link in the chat" not in canceled_page


def test_a_verification_the_merchant_took_still_reads_verified_with_names(
    payment_verification_preferred, sam_client, kim_client
):
    escalation = payment_verification_preferred
    confirmed = _verify_twice_over(escalation, sam_client, kim_client)
    assert confirmed[0].endswith("The order is placed now.")

    page = _page(sam_client, escalation)

    assert _section(page, "esc-verification-evidence") == f"two specialists (sam recorded, kim confirmed): “{NOTE}”."
    assert "<th>Payment verified by</th>" in page
    assert "Needs 3-D Secure" in page  # the attempt that asked for the check
    assert "Refused by the merchant" not in page


# -- names of people ----------------------------------------------------------------------------------------------


def test_history_transcript_and_pending_verification_name_people_not_ids(
    payment_verification_unannounced, sam, sam_client, kim, kim_client
):
    escalation = payment_verification_unannounced
    press(sam_client, escalation, "reply", {"text": "Hi Alice, I'm checking with your bank."})
    press(sam_client, escalation, "verify_payment", {"note": NOTE})

    page = _page(kim_client, escalation)

    history = _section(page, "esc-history")
    assert f"staff:{sam.pk}" not in page and f"#{sam.pk}" not in history
    assert re.search(r"\d\d:\d\d:\d\d sam escalation\.claimed ok", history)
    assert re.search(r"\d\d:\d\d:\d\d sam escalation\.payment_verification_recorded ok", history)
    transcript = _section(page, "esc-transcript")
    assert re.search(r"Staff · sam · \d\d:\d\d:\d\d Hi Alice, I'm checking with your bank\.", transcript)
    assert _section(page, "esc-pending-verification").startswith("Waiting for a second specialist. Recorded by sam at")


def test_a_specialist_is_named_as_written_or_by_their_full_name(
    payment_verification, make_staff, otp_login, sam_client
):
    escalation = payment_verification
    lee = make_staff("lee")
    press(otp_login(lee, client=Client()), escalation, "claim")

    as_written = press(sam_client, escalation, "cancel_flow")
    lee.first_name, lee.last_name = "Lee", "Park"
    lee.save(update_fields=["first_name", "last_name"])
    by_full_name = press(sam_client, escalation, "cancel_flow")
    page = _page(sam_client, escalation)

    assert as_written == ["lee is working on this escalation. Take it over first if you need to act on it."]
    assert by_full_name == ["Lee Park is working on this escalation. Take it over first if you need to act on it."]
    assert "Take over from Lee Park" in page and "Take over from lee" not in page
    assert "Lee Park" in _section(page, "esc-history")


def test_the_customers_cancel_notice_names_the_specialist_who_canceled(payment_verification, sam_client):
    escalation = payment_verification
    press(sam_client, escalation, "cancel_flow")

    transcript = _section(_page(sam_client, escalation), "esc-transcript")

    assert re.search(r"Staff · sam · \d\d:\d\d:\d\d I canceled your order of 1x Blue Runner", transcript)
