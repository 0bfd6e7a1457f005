"""Earlier previews keep their real state after a reload, and a placed order the shop canceled says so (the
walkthrough: after a reload every earlier confirmed preview said "This preview is no longer current", and a
canceled order's preview still said "Order placed"), in headless Chromium against the sandbox over HTTP."""

from __future__ import annotations

import pytest

from ordering.models import OrderFlow
from tests.browser.conftest import Storefront, in_thread, screenshot
from tests.support.merchant_state import merchant_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


def place(store: Storefront, words: str):
    store.say(words)
    preview = store.last_preview()
    preview.wait_for()
    preview.get_by_role("button", name="Confirm").click()
    preview.locator(".oaw-progress[data-status=placed]").wait_for()
    return preview


def progress_of_each_preview(store: Storefront) -> list[str]:
    return [text.strip() for text in store.log.locator(".oaw-preview .oaw-progress").all_inner_texts()]


def test_placed_and_canceled_orders_show_how_they_ended_before_and_after_a_reload(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()

    # given alice placed two orders in one conversation
    place(store, "Buy the Blue Runner in size 42")
    place(store, "Buy the Blue Runner in size 43")
    conversation_id = store.conversation_id()
    flows = in_thread(lambda: list(OrderFlow.objects.filter(conversation_id=conversation_id).order_by("created_at")))
    first, second = (flow.merchant_order_id for flow in flows)
    assert first and second and first != second

    # when she cancels the second one in the chat, and says yes
    store.say("cancel my order")
    assert "Reply yes to cancel it" in store.messages("assistant").last.inner_text()
    store.say("yes")
    assert merchant_order(second).status == "canceled"

    # then its preview says it was canceled, not placed, while the first one is still placed
    store.wait_until(
        "id => [...document.querySelectorAll('.oaw-preview .oaw-progress')].some(p => p.textContent === id)",
        f"Order cancelled · {second}",
    )
    assert progress_of_each_preview(store) == [f"Order placed · {first}", f"Order cancelled · {second}"]

    # and after a reload the chat shows both previews as they ended, not "no longer current"
    store.page.reload()
    store.panel.wait_for(state="visible")  # the panel stays open across a reload (per tab)
    store.log.locator(".oaw-preview").nth(1).wait_for()
    store.wait_until_idle()
    assert progress_of_each_preview(store) == [f"Order placed · {first}", f"Order cancelled · {second}"]
    assert store.log.get_by_text("This preview is no longer current.").count() == 0
    screenshot(store.page, "previews-after-reload")
    store.assert_no_outside_requests()
