"""What a shopper sees and clicks besides typing, end to end in headless Chromium: quick-reply chips,
product cards with an Add button, cart editing on the preview card, and which preview says the order
was placed. The whole stack runs (live server, sandbox merchant over HTTP, the real agent and policy,
in-process Celery tasks); the requests the widget sends are read off the browser as they leave it."""

from __future__ import annotations

import json

import pytest

from catalog_adapters.registry import get_merchant
from ordering.agent.tools.catalog import product_card
from ordering.models import FlowStatus, MessageRole, OrderFlow
from ordering.services import conversation_post
from tests.browser.conftest import TIMEOUT_MS, Storefront, in_thread, screenshot
from tests.support.merchant_state import checkout_session, merchant_order_count, merchant_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]
SHOE_SIZES = ["40", "41", "42", "43", "44", "45"]  # the demo shop's shoe sizes (corpus/catalog.json)

TIMES = "\N{MULTIPLICATION SIGN}"


class Posts:
    """The messages the widget posts, as they leave the browser: body and Idempotency-Key."""

    def __init__(self, page) -> None:
        self.sent: list[tuple[dict, str]] = []
        page.on("request", self._watch)

    def _watch(self, request) -> None:
        if request.method == "POST" and request.url.endswith("/messages/"):
            self.sent.append((json.loads(request.post_data), request.headers.get("idempotency-key", "")))

    @property
    def last(self) -> dict:
        return self.sent[-1][0]


def click_and_wait(store: Storefront, control) -> None:
    """Click a control that posts a message; wait until the customer's message shows and the turn is over."""
    before = store.messages("customer").count()
    control.click()
    store.wait_until(
        "n => document.querySelectorAll('.oaw-log .oaw-customer').length > n", arg=before, timeout=TIMEOUT_MS
    )
    store.wait_until_idle()


def pinned(store: Storefront, message):
    """The same message however many arrive after it (`.last` moves on)."""
    return store.log.locator(f".oaw-message[data-message-id='{message.get_attribute('data-message-id')}']")


def live_preview(store: Storefront):
    """The one preview box whose Confirm button shows."""
    return store.log.locator(".oaw-preview", has=store.page.locator(".oaw-actions:not([hidden])"))


def merchant_lines(conversation_id: str) -> list[tuple[str, int]]:
    """The lines of the conversation's checkout session as the merchant holds them: (variant, quantity)."""
    flow = OrderFlow.objects.filter(conversation_id=conversation_id).order_by("-created_at").first()
    session = checkout_session(flow.checkout_session_id)  # through the merchant contract
    return sorted((line.item_id, line.quantity) for line in session.line_items)


def test_size_chips_then_the_preview_card_changes_quantity_and_size_and_removes_the_line(shop, live_server, chromium):
    store = Storefront(chromium.new_page(viewport={"width": 1280, "height": 900}), live_server.url)
    posts = Posts(store.page)
    store.sign_in("alice")
    store.open_chat()

    # when alice asks for the shoes without a size
    store.say("buy the blue runner")

    # then the assistant asks which size, with a chip per size the shop has
    question = pinned(store, store.messages("assistant").last)
    chips = question.get_by_role("group", name="Quick replies").get_by_role("button")
    labels = chips.all_inner_texts()
    assert set(labels) <= set(SHOE_SIZES) and {"42", "43"} <= set(labels), labels
    screenshot(store.page, "size-chips")

    # when she clicks 43
    click_and_wait(store, chips.get_by_text("43", exact=True))

    # then the chip's words were posted as her message, and a preview of size 43 comes with edit controls
    assert posts.last["text"] == "43"
    assert store.messages("customer").last.locator(".oaw-bubble").inner_text() == "43"
    preview = live_preview(store)
    preview.wait_for()
    assert "Blue Runner" in preview.inner_text() and "blue, 43" in preview.inner_text()
    # the chips she answered stay on screen but no longer work
    assert all(chip.is_disabled() for chip in chips.all())
    edit = preview.get_by_role("group", name="Change your order")
    assert edit.is_visible()
    fewer = edit.get_by_role("button", name="One fewer Blue Runner (blue, 43), now 1")
    more = edit.get_by_role("button", name="One more Blue Runner (blue, 43), now 1")
    assert fewer.is_disabled()  # never below one: Remove is for that
    assert more.is_enabled()
    size = edit.get_by_label("Size of Blue Runner (blue, 43)")
    assert size.input_value() == "43"
    assert edit.get_by_label("Colour of Blue Runner (blue, 43)").count() == 0  # one colour only: no choice
    conversation = store.conversation_id()
    assert in_thread(merchant_lines, conversation) == [("var_blue_runner_43", 1)]

    # when she presses +
    first_preview = preview.element_handle()
    click_and_wait(store, more)

    # then the widget posted the quantity as a correction of that line, and the shop priced two pairs
    assert posts.last == {
        "text": f"2 {TIMES} Blue Runner",
        "command": {
            "kind": "set_slot",
            "slot": "quantity",
            "value": "2",
            "target": {"variant_id": "var_blue_runner_43"},
            "correction": True,
        },
    }
    preview = live_preview(store)
    assert f"2{TIMES} Blue Runner" in preview.locator(".oaw-preview-lines").inner_text()
    assert in_thread(merchant_lines, conversation) == [("var_blue_runner_43", 2)]
    flow = in_thread(OrderFlow.objects.filter(conversation_id=conversation).latest, "created_at")
    assert f"${flow.total_amount / 100:.2f}" in preview.locator(".oaw-total").last.inner_text()
    # the previous preview has no buttons or edit controls any more, and says it is not current
    assert not first_preview.query_selector(".oaw-actions").is_visible()
    assert not first_preview.query_selector(".oaw-cart-edit").is_visible()
    assert first_preview.query_selector(".oaw-progress").inner_text() in (
        "This preview is no longer current.",
        "Replaced by a newer preview",
    )

    # when she picks size 42 in the preview's size list
    edit = preview.get_by_role("group", name="Change your order")
    before = store.messages("customer").count()
    edit.get_by_label("Size of Blue Runner (blue, 43)").select_option("42")
    store.wait_until(
        "n => document.querySelectorAll('.oaw-log .oaw-customer').length > n", arg=before, timeout=TIMEOUT_MS
    )
    store.wait_until_idle()

    # then the line is now size 42, still two pairs, at the shop too
    assert posts.last["command"] == {
        "kind": "set_slot",
        "slot": "size",
        "value": "42",
        "target": {"variant_id": "var_blue_runner_43"},
        "correction": True,
    }
    preview = live_preview(store)
    assert f"2{TIMES} Blue Runner (blue, 42)" in preview.locator(".oaw-preview-lines").inner_text()
    assert in_thread(merchant_lines, conversation) == [("var_blue_runner_42", 2)]
    screenshot(store.page, "cart-edit")

    # when she removes the line
    click_and_wait(store, preview.get_by_role("button", name="Remove Blue Runner (blue, 42)"))

    # then nothing is left to confirm and nothing was ordered
    assert posts.last["command"] == {"kind": "remove_item", "target": {"variant_id": "var_blue_runner_42"}}
    assert live_preview(store).count() == 0
    assert store.log.locator(".oaw-cart-edit:visible").count() == 0
    assert merchant_order_count() == 0
    # every post had its own Idempotency-Key
    keys = [key for _, key in posts.sent]
    assert all(keys) and len(set(keys)) == len(keys)
    store.assert_no_outside_requests()


def test_search_results_are_cards_with_an_add_button_that_puts_that_product_in_the_cart(shop, live_server, chromium):
    store = Storefront(chromium.new_page(viewport={"width": 1280, "height": 900}), live_server.url)
    posts = Posts(store.page)
    store.sign_in("alice")
    store.open_chat()

    # when alice browses
    store.say("show me running shoes")

    # then the answer lists the products as cards, each with a picture from this site, price and Add
    answer = pinned(store, store.messages("assistant").last)
    cards = answer.locator(".oaw-card")
    assert cards.count() >= 2
    titles = cards.locator(".oaw-card-title").all_inner_texts()
    assert "Trail Blazer" in titles
    for index in range(cards.count()):
        card = cards.nth(index)
        assert card.locator("img").get_attribute("src").startswith(f"{live_server.url}/sandbox-merchant/images/")
        assert card.locator(".oaw-card-price").inner_text().startswith("$")
        assert card.get_by_role("button", name=f"Add {titles[index]} to your order").is_visible()
    # several results sit side by side (a grid), not one per row
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert first["y"] == second["y"] and second["x"] > first["x"]
    # a chip saying what a card's button already does is not shown twice
    for chip in answer.locator(".oaw-reply").all_inner_texts():
        assert chip not in titles
    store.wait_until(
        "() => [...document.querySelectorAll('.oaw-card img')].every(i => i.complete && i.naturalWidth > 0)",
        timeout=10_000,
    )
    screenshot(store.page, "search-cards")

    # when she presses Add on the Trail Blazer
    click_and_wait(store, answer.get_by_role("button", name="Add Trail Blazer to your order"))

    # then that exact product was asked for, and the assistant asks what it needs (colour or size) with chips
    assert posts.last == {
        "text": "I'll take the Trail Blazer",
        "command": {"kind": "add_items", "items": [{"product_ids": ["prod_trail_blazer"]}]},
    }
    reply = store.messages("assistant").last
    assert "Trail Blazer" in reply.inner_text()
    assert reply.get_by_role("group", name="Quick replies").get_by_role("button").count() >= 2
    assert merchant_order_count() == 0
    store.assert_no_outside_requests()


def test_after_a_confirmation_only_the_confirmed_preview_says_order_placed(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()

    # given alice saw a preview for size 42, then corrected it to 43 and got a new preview
    store.say("Buy the Blue Runner in size 42")
    live_preview(store).wait_for()
    store.say("actually make it size 43")
    assert store.log.locator(".oaw-preview").count() == 2
    replaced, latest = store.log.locator(".oaw-preview").nth(0), store.log.locator(".oaw-preview").nth(1)
    assert "blue, 42" in replaced.inner_text() and "blue, 43" in latest.inner_text()
    assert replaced.get_attribute("data-flow-id") == latest.get_attribute("data-flow-id")  # one cart, re-previewed

    # when she confirms the newer one
    latest.get_by_role("button", name="Confirm").click()
    store.log.locator(".oaw-message[data-kind=flow_placed]").wait_for()
    store.wait_until_idle()

    # then only that preview says the order is placed; the one it replaced says so
    [order] = merchant_orders()
    flow = in_thread(OrderFlow.objects.get, merchant_order_id=order.id)
    assert flow.status == FlowStatus.PLACED and flow.confirmed_hash == latest.get_attribute("data-preview-hash")
    store.wait_until(
        "() => document.querySelectorAll('.oaw-preview .oaw-progress[data-status=placed]').length === 1",
        timeout=TIMEOUT_MS,
    )
    assert latest.locator(".oaw-progress").inner_text() == f"Order placed · {order.id}"
    assert replaced.locator(".oaw-progress").inner_text() == "Replaced by a newer preview"
    replaced.scroll_into_view_if_needed()
    screenshot(store.page, "replaced-preview")

    # and the same after a reload, when the transcript is read back from the server
    store.page.reload()
    store.panel.wait_for(state="visible")
    store.log.locator(".oaw-preview").nth(1).locator(".oaw-progress[data-status=placed]").wait_for()
    assert store.log.locator(".oaw-preview").nth(0).locator(".oaw-progress").inner_text() == (
        "Replaced by a newer preview"
    )
    assert store.log.get_by_text("Order placed").count() >= 1
    assert store.log.locator(".oaw-progress", has_text="Order placed").count() == 1


def test_at_375_px_the_chips_cards_and_cart_editing_fit_and_work_from_the_keyboard(shop, live_server, chromium):
    page = chromium.new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    store = Storefront(page, live_server.url)
    posts = Posts(page)
    store.sign_in("alice")
    store.open_chat()

    def fits() -> None:
        assert page.evaluate("(log => log.scrollWidth <= log.clientWidth)(document.querySelector('.oaw-log'))")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375

    store.say("show me running shoes")
    cards = store.messages("assistant").last.locator(".oaw-card")
    for index in range(cards.count()):
        box = cards.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    fits()
    screenshot(page, "375px-cards")

    store.say("buy the blue runner")
    chips = store.messages("assistant").last.locator(".oaw-reply")
    assert chips.count() >= 2
    for index in range(chips.count()):
        box = chips.nth(index).bounding_box()
        assert box["x"] + box["width"] <= 375 and box["height"] >= 32  # big enough to tap
    fits()
    # a chip works from the keyboard: focus it, press Enter
    before = store.messages("customer").count()
    chips.get_by_text("42", exact=True).focus()
    page.keyboard.press("Enter")
    store.wait_until(
        "n => document.querySelectorAll('.oaw-log .oaw-customer').length > n", arg=before, timeout=TIMEOUT_MS
    )
    store.wait_until_idle()
    preview = live_preview(store)
    assert "blue, 42" in preview.inner_text()

    edit = preview.get_by_role("group", name="Change your order")
    for control in edit.locator("button, select").all():
        box = control.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375 and box["height"] >= 32
    fits()
    screenshot(page, "375px-cart-edit")

    # stepping through sizes with the arrow keys posts nothing; Enter commits the one shown
    size = edit.get_by_label("Size of Blue Runner (blue, 42)")
    size.focus()
    sent = len(posts.sent)
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(300)
    assert len(posts.sent) == sent
    chosen = size.input_value()
    assert chosen != "42"
    before = store.messages("customer").count()
    page.keyboard.press("Enter")
    store.wait_until(
        "n => document.querySelectorAll('.oaw-log .oaw-customer').length > n", arg=before, timeout=TIMEOUT_MS
    )
    store.wait_until_idle()
    assert posts.last["command"]["slot"] == "size" and posts.last["command"]["value"] == chosen
    assert f"blue, {chosen}" in live_preview(store).inner_text()
    # and + from the keyboard
    more = live_preview(store).get_by_role("button", name=f"One more Blue Runner (blue, {chosen}), now 1")
    more.focus()
    before = store.messages("customer").count()
    page.keyboard.press("Enter")
    store.wait_until(
        "n => document.querySelectorAll('.oaw-log .oaw-customer').length > n", arg=before, timeout=TIMEOUT_MS
    )
    store.wait_until_idle()
    assert f"2{TIMES} Blue Runner" in live_preview(store).locator(".oaw-preview-lines").inner_text()
    store.assert_no_outside_requests()


def test_chips_and_cards_from_the_server_are_text_and_post_exactly_their_command(shop, live_server, chromium):
    # Messages the server may send, put in the conversation as the agent would (conversation_post), so
    # that labels and titles with markup and a chip carrying a command are checked whatever the policy says.
    store = Storefront(chromium.new_page(), live_server.url)
    posts = Posts(store.page)
    store.sign_in("alice")
    store.open_chat()
    conversation = store.conversation_id()

    def post_message():
        runner = get_merchant("sandbox").catalog.get_product(product_id="prod_blue_runner")
        conversation_post(
            conversation_id=conversation,
            role=MessageRole.ASSISTANT,
            text="Which one?",
            data={
                "kind": "question",
                "cards": [{**product_card(runner), "title": '<img src="/x" onerror="window.__injected = 1">Runner'}],
                "quick_replies": [
                    {
                        "label": "<b>43</b>",
                        "text": "43",
                        "command": {"kind": "set_slot", "slot": "size", "value": "43"},
                    },
                    {"label": "Show me sneakers", "text": "Show me sneakers"},
                ],
            },
        )

    in_thread(post_message)

    # the widget picks the message up by polling: chip labels and card titles are text, never markup
    store.messages("assistant").last.locator(".oaw-reply").nth(1).wait_for()
    question = pinned(store, store.messages("assistant").last)
    assert question.locator(".oaw-reply").all_inner_texts() == ["<b>43</b>", "Show me sneakers"]
    assert question.locator(".oaw-card-title").inner_text() == '<img src="/x" onerror="window.__injected = 1">Runner'
    choose = question.get_by_role("button", name='Choose <img src="/x" onerror="window.__injected = 1">Runner')
    assert choose.inner_text() == "Choose"  # a card answering "which one?" is a choice
    assert store.log.locator("b, img[src='/x']").count() == 0
    assert store.page.evaluate("window.__injected === undefined")

    # a chip with a command posts its text and exactly that command
    click_and_wait(store, question.get_by_role("button", name="<b>43</b>"))
    assert posts.last == {"text": "43", "command": {"kind": "set_slot", "slot": "size", "value": "43"}}
    # and once answered, the other chip of that question no longer posts anything
    assert question.get_by_role("button", name="Show me sneakers").is_disabled()
    store.assert_no_outside_requests()


def test_try_again_after_a_failure_asks_again_with_the_request_not_the_chip_that_answered_it(
    shop, live_server, chromium
):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()

    # given alice asked for the shoes and answered the size question with a chip
    store.say("buy the blue runner")
    question = pinned(store, store.messages("assistant").last)
    click_and_wait(store, question.locator(".oaw-reply", has_text="44"))
    preview = live_preview(store)
    assert "blue, 44" in preview.inner_text()

    # and the shop fails to complete the order she confirms
    shop.sandbox.add_fault("server_error", operation="complete", times=50)
    preview.get_by_role("button", name="Confirm").click()
    failed = store.log.locator(".oaw-message[data-kind=flow_failed]")
    failed.wait_for()
    store.wait_until_idle()
    shop.sandbox.clear_faults()

    # when she presses Try again
    click_and_wait(store, failed.get_by_role("button", name="Try again"))

    # then her request is asked again in her own words (a bare "44" would mean nothing to a fresh cart)
    assert store.messages("customer").last.locator(".oaw-bubble").inner_text() == "buy the blue runner"
    assert merchant_order_count() == 0


def test_a_preview_the_settings_would_refuse_has_no_confirm_and_links_to_the_settings(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")

    # given alice revoked "Place orders for me" on the settings page
    store.page.get_by_role("link", name="What the assistant may do").click()
    store.page.get_by_role("button", name="Revoke: Place orders for me").click()
    store.page.get_by_text("Revoked: “Place orders for me”").wait_for()

    # when she asks the assistant for an order
    store.open_shop()
    store.open_chat()
    store.say("Buy the Blue Runner in size 42")

    # then she sees what it would cost, why it cannot be placed, and where to change that; nothing to confirm
    preview = store.last_preview()
    assert "Blue Runner" in preview.inner_text()
    assert "revoked" in store.messages("assistant").last.locator(".oaw-bubble").inner_text()
    assert preview.get_by_role("button", name="Confirm").count() == 0 or not (
        preview.get_by_role("button", name="Confirm").is_visible()
    )
    assert preview.get_by_text("This order can't be placed with your current settings.").is_visible()
    assert preview.get_by_role("link", name="Open your settings").get_attribute("href") == "/settings/"
    assert not preview.locator(".oaw-progress").is_visible()  # not "no longer current": it is the latest
    assert not preview.locator(".oaw-cart-edit").is_visible()
    assert merchant_order_count() == 0
    screenshot(store.page, "preview-blocked")
