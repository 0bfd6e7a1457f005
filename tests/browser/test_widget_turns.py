"""The widget and turns as background work: the 202 answer, the typing indicator while a real worker
answers (the widget long-polling the turn url), and a failed turn (past its deadline) that the customer can
send again."""

from __future__ import annotations

import pytest
from django.db import connection

from ordering.models import ConversationTurn, OrderFlow
from tests.browser.conftest import Storefront, in_thread, screenshot
from tests.support.services import CeleryWorker, database_url_for

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.mark.redis
def test_the_customer_message_shows_at_once_and_the_worker_answer_follows(
    shop, live_server, chromium, settings, tmp_path
):
    # given turns run by a real worker on the turn queue (the live server only stores the message)
    settings.ORDERING_TURNS_INLINE = False
    worker = CeleryWorker(
        database_url=in_thread(lambda: database_url_for(connection.settings_dict)),
        log_path=tmp_path / "worker.log",
        extra_env={"MERCHANT_SANDBOX_BASE_URL": shop.sandbox.base_url, "MERCHANT_SANDBOX_RATE_LIMIT": "0"},
    ).start()
    try:
        store = Storefront(chromium.new_page(), live_server.url)
        store.sign_in("alice")
        store.open_chat()
        # the shop answers its product search slowly, once: the worker takes a while over the turn
        shop.sandbox.add_fault("slow", operation="search", delay_ms=2000, times=1)

        looks: list[str] = []  # the widget's requests to the turn url
        store.page.on("request", lambda request: looks.append(request.url) if "/turns/" in request.url else None)

        # when alice sends a message
        store.input.fill("Buy the Blue Runner in size 42")
        store.input.press("Enter")

        # then her message is on screen while the assistant is still typing
        store.messages("customer").filter(has_text="Buy the Blue Runner in size 42").wait_for()
        assert store.panel.locator(".oaw-typing").is_visible()
        assert store.send_button.is_disabled()
        # and the worker's answer follows: the preview, with its Confirm button
        store.last_preview().wait_for()
        store.wait_until_idle()
        assert store.last_preview().get_by_role("button", name="Confirm").is_visible()
        screenshot(store.page, "answered-by-worker")
        conversation_id = store.conversation_id()
        turn = in_thread(lambda: ConversationTurn.objects.get(conversation_id=conversation_id))
        assert turn.status == "done" and turn.planner == "offline"
        # the widget long-polled the turn: a look the server held until the worker said the turn ended, not
        # one every half second over the two seconds and more the turn took
        assert looks and all("wait=20" in url for url in looks), looks
        assert len(looks) <= 2, looks
        store.assert_no_outside_requests()
    finally:
        worker.stop()


def test_a_turn_past_its_deadline_shows_the_apology_and_sends_again_with_one_press(
    shop, live_server, chromium, settings
):
    settings.ORDERING_TURN_DEADLINE_SECONDS = 1
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()
    # the shop takes 3 s over every new checkout session for a while: the turn's deadline passes
    shop.sandbox.add_fault("slow", operation="create", delay_ms=3000, times=3)

    store.say("Buy the Blue Runner in size 42")

    store.messages("assistant").filter(has_text="send it again").wait_for()
    assert store.input.input_value() == "Buy the Blue Runner in size 42"
    assert "Press Send to try it again" in store.panel.get_by_role("alert").inner_text()
    assert store.log.locator(".oaw-preview").count() == 0
    conversation_id = store.conversation_id()
    assert not in_thread(
        lambda: OrderFlow.objects.filter(conversation_id=conversation_id, status__in=("draft", "previewed")).exists()
    )

    # once the shop is quick again, one press of Send tries again, and this time it is answered
    shop.sandbox.clear_faults()
    settings.ORDERING_TURN_DEADLINE_SECONDS = 30
    store.send_button.click()
    store.last_preview().wait_for()
    store.wait_until_idle()
    assert in_thread(lambda: ConversationTurn.objects.filter(conversation_id=conversation_id).count()) == 2
