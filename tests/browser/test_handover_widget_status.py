"""After a hand-over the assistant says once that a specialist has the conversation, then stays silent: the customer's
next messages are for the specialist. The walkthrough's customer saw nothing happen under them and thought the chat
was broken. Each such message now says "Sent to the specialist" under it (live and after a reload), the assistant
still says nothing, and the specialist's console shows the messages, marked as written to them.

Real headless Chromium on the live server; the specialist works in the console as staff do.
"""

from __future__ import annotations

import pytest

from escalations.models import Escalation
from ordering.models import AgentDecision, Message
from tests.browser.conftest import Storefront, in_thread, screenshot
from tests.browser.test_csp_pages import Watched
from tests.browser.test_escalation_console import _staff_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

SENT = "Sent to the specialist"


def test_messages_written_while_a_specialist_has_the_chat_say_they_were_sent_to_the_specialist(
    shop, live_server, chromium, otp_login
):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()

    # given: alice asked for a person, and the assistant said once that a specialist has the conversation
    store.say("Can I talk to a human please?")
    store.log.get_by_text("A specialist has this conversation now").wait_for()
    asked = store.messages("customer").filter(has_text="Can I talk to a human please?")
    assert asked.locator(".oaw-delivery").count() == 0  # the assistant answered that one itself
    conversation_id = store.conversation_id()
    decisions = in_thread(lambda: AgentDecision.objects.filter(conversation_id=conversation_id).count())

    # when: she writes twice more
    store.say("hello? is anyone there?")
    store.say("it's about the size of the Blue Runner")

    # then: under each, "Sent to the specialist"; the assistant said nothing and decided nothing about them
    for text in ("hello? is anyone there?", "it's about the size of the Blue Runner"):
        mine = store.messages("customer").filter(has_text=text)
        mine.locator(".oaw-delivery").wait_for()
        assert mine.locator(".oaw-delivery").inner_text() == SENT
    assert store.messages("assistant").count() + store.messages("system").count() == in_thread(
        lambda: Message.objects.filter(conversation_id=conversation_id, role__in=["assistant", "system"]).count()
    )
    assert in_thread(lambda: AgentDecision.objects.filter(conversation_id=conversation_id).count()) == decisions
    assert store.log.locator(".oaw-message").last.get_attribute("class").split() == ["oaw-message", "oaw-customer"]
    screenshot(store.page, "sent-to-the-specialist")

    # and after a reload, the same
    store.page.reload()
    store.panel.wait_for(state="visible")
    store.wait_until_idle()
    assert store.log.locator(".oaw-customer .oaw-delivery").all_inner_texts() == [SENT, SENT]
    store.assert_no_outside_requests()

    # the specialist's console shows both messages, marked as written to the specialist
    escalation = in_thread(lambda: Escalation.objects.get(conversation_id=conversation_id))
    staff = _staff_page(chromium, live_server, otp_login)
    watched = Watched(staff)
    staff.goto(f"{live_server.url}/admin/escalations/escalation/{escalation.pk}/change/")
    transcript = staff.locator("#esc-transcript .esc-msg-customer")
    assert transcript.count() == 3
    assert [transcript.nth(i).locator(".esc-msg-to-specialist").count() for i in range(3)] == [0, 1, 1]
    assert "it's about the size of the Blue Runner" in transcript.nth(2).inner_text()

    # when: sam hands the conversation back, her next message is the assistant's again, without the status
    with staff.expect_navigation():
        staff.get_by_role("button", name="Hand back to the assistant").click()
    watched.assert_clean()
    store.log.get_by_text("The specialist handed you back to the assistant").wait_for(timeout=30_000)
    store.say("Buy the Blue Runner in size 42")
    store.last_preview().wait_for()
    store.wait_until_idle()
    again = store.messages("customer").filter(has_text="Buy the Blue Runner in size 42")
    assert again.locator(".oaw-delivery").count() == 0
    assert store.log.locator(".oaw-customer .oaw-delivery").count() == 2
