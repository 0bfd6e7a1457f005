"""The staff console's "Cancel the order" in real Chromium under the Content-Security-Policy.

The policy runs no inline handler, so an `onsubmit="return confirm(...)"` on the form is silently dropped
and one click cancels the order without asking. The form says what to ask in `data-confirm` and the
console's own script (a file, which 'self' allows) asks it.

And a reply sent again with Back: the page is never cached, so Back draws it again with a new form key while the
browser puts the text back in the box.
"""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from config.tracing import trace_context
from escalations.models import Escalation
from ordering.models import Message, OrderFlow
from ordering.services import flow_confirm
from tests.browser.conftest import in_thread, screenshot
from tests.browser.test_csp_pages import Watched

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

QUESTION = "Cancel this order and undo what it did?"


def _payment_verification(shop, *, preferred: bool = False) -> Escalation:
    """A flow stopped for 3-D Secure, with its escalation (what support is asked to look at): the card's issuer
    mandates the check, or (`preferred`) the merchant only prefers it, where two specialists may verify it."""
    if preferred:
        shop.merchant_prefers_3ds()
    with trace_context():
        flow = shop.start_flow(card="pm_alice_visa" if preferred else "pm_alice_3ds")
        flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    return Escalation.objects.get(flow_id=flow.pk, reason="payment_verification")


def _staff_page(chromium, live_server, otp_login):
    """A browser page signed in to the console as a support user who entered a TOTP code."""
    from django.contrib.auth import get_user_model

    from escalations.staff import support_group_ensure

    def staff_session() -> str:
        user = get_user_model().objects.create_user("sam", password="irrelevant-pass-9", is_staff=True)
        user.groups.add(support_group_ensure())
        return otp_login(user).cookies["sessionid"].value

    session_id = in_thread(staff_session)
    context = chromium.new_context()
    context.add_cookies([{"name": "sessionid", "value": session_id, "url": live_server.url}])
    return context.new_page()


def _cancel_the_order(page, live_server, escalation: Escalation, *, answer: str) -> list[str]:
    asked: list[str] = []

    def dialog(d) -> None:
        asked.append(d.message)
        d.accept() if answer == "accept" else d.dismiss()

    page.on("dialog", dialog)
    page.goto(f"{live_server.url}/admin/escalations/escalation/{escalation.pk}/change/")
    button = page.get_by_role("button", name="Cancel the order")
    if answer == "accept":
        with page.expect_navigation():
            button.click()
    else:
        button.click()
        # a submitted form would be on its way now; give it the time a real post takes here
        page.wait_for_timeout(1500)
    page.remove_listener("dialog", dialog)
    return asked


def test_cancel_the_order_asks_first_and_dismissing_keeps_the_order(shop, live_server, chromium, otp_login):
    escalation = in_thread(_payment_verification, shop)
    page = _staff_page(chromium, live_server, otp_login)
    watched = Watched(page)

    asked = _cancel_the_order(page, live_server, escalation, answer="dismiss")

    assert asked == [QUESTION]
    assert in_thread(lambda: OrderFlow.objects.get(pk=escalation.flow_id).status) == "requires_action"
    assert page.url.endswith(f"/admin/escalations/escalation/{escalation.pk}/change/")
    watched.assert_clean()

    asked = _cancel_the_order(page, live_server, escalation, answer="accept")
    screenshot(page, "escalation-canceled")

    assert asked == [QUESTION]
    flow = in_thread(lambda: OrderFlow.objects.get(pk=escalation.flow_id))
    assert (flow.status, flow.failure_code) == ("canceled", "staff_canceled")
    watched.assert_clean()


def test_a_double_click_sends_an_action_once_and_shows_what_it_did(shop, live_server, chromium, otp_login):
    # given: sam has the 3-D Secure escalation open and has written how the payment was verified
    escalation = in_thread(_payment_verification, shop, preferred=True)
    page = _staff_page(chromium, live_server, otp_login)
    watched = Watched(page)
    page.goto(f"{live_server.url}/admin/escalations/escalation/{escalation.pk}/change/")
    page.get_by_label("How did you verify the payment with the customer?").fill("Called alice on her number.")

    # when: the button is double-clicked, as people do
    # the second click lands while the first one's request is on its way (a slow answer, an impatient hand)
    page.get_by_role("button", name="Payment verified (needs a second specialist)").evaluate(
        "button => { button.click(); setTimeout(() => button.click(), 10); }"
    )
    page.locator("ul.messagelist").wait_for()
    page.wait_for_load_state()
    screenshot(page, "escalation-double-click")

    # then: the page says what was done, not that it was refused; one attempt reached the server
    shown = page.locator("ul.messagelist li").all_inner_texts()
    assert shown == [
        "Verification recorded. It takes effect when a second specialist confirms it; nothing is paid yet."
    ]
    attempts = in_thread(
        lambda: list(
            AuditEvent.objects.filter(
                action__in=["escalation.payment_verification_recorded", "escalation.verify_payment"],
                target_id=str(escalation.pk),
            ).values_list("action", "outcome")
        )
    )
    assert attempts == [("escalation.payment_verification_recorded", "ok")]
    watched.assert_clean()


def test_back_and_send_reply_again_reaches_the_customer_once(shop, live_server, chromium, otp_login):
    # given: sam sent a reply from the escalation's page
    escalation = in_thread(_payment_verification, shop)
    page = _staff_page(chromium, live_server, otp_login)
    watched = Watched(page)
    page.goto(f"{live_server.url}/admin/escalations/escalation/{escalation.pk}/change/")
    text = "Hi Alice, I'm checking with your bank now."
    page.get_by_label("Reply to alice (appears in the chat)").fill(text)
    first_key = page.locator("input[name=reply_key]").input_value()
    with page.expect_navigation():
        page.get_by_role("button", name="Send reply").click()
    assert page.locator("ul.messagelist li").all_inner_texts() == ["Reply sent: alice sees it in their chat."]

    # when: Back, and "Send reply" on the page the browser draws again (the page is not cached: a new form and key)
    page.go_back()
    # the page was drawn again with a new key, and the browser put back the text it remembered in the box
    assert page.locator("input[name=reply_key]").input_value() != first_key
    assert page.get_by_label("Reply to alice (appears in the chat)").input_value() == text
    with page.expect_navigation():
        page.get_by_role("button", name="Send reply").click()
    screenshot(page, "escalation-reply-sent-again")

    # then: alice has it once, and sam is told it was not sent again
    [shown] = page.locator("ul.messagelist li").all_inner_texts()
    assert shown.startswith("Not sent again: you sent this same reply at ")
    staff_messages = in_thread(
        lambda: list(
            Message.objects.filter(conversation_id=escalation.flow.conversation_id, role="staff").values_list(
                "text", flat=True
            )
        )
    )
    assert staff_messages == [text]
    watched.assert_clean()
