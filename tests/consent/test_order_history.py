"""The settings page's "Your orders": the signed-in customer's orders from every conversation, newest first.

Orders are real: a checkout session at the sandbox merchant over HTTP, a preview, a confirmation, and
the placement saga run in-process (`eager_tasks`). Only the page is read with Django's test client.
"""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from consent.formatting import format_money
from ordering.evaluation.catalog import demo_variant
from ordering.models import FlowStatus, OrderFlow
from ordering.services import flow_confirm
from tests.ordering import conftest as ordering_fixtures
from tests.support.merchant_state import only_order

# The flow tests' shop on the in-memory fake merchant with the demo customers (the page, not the merchant,
# is the subject); Celery tasks run in-process (`eager_tasks` is suite-wide).
fake_shop = ordering_fixtures.fake_shop
pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


TIMES = "\N{MULTIPLICATION SIGN}"

BLUE_RUNNER_42 = demo_variant("var_blue_runner_42")[1].id
TRAIL_BLAZER_GREEN_43 = demo_variant("var_trail_blazer_green_43")[1].id
CANVAS_LOW_BLACK_40 = demo_variant("var_canvas_low_black_40")[1].id


def previewed(username: str, *, card: str, variant: str, quantity: int = 1) -> OrderFlow:
    """A previewed flow in a conversation of its own: a real session at the sandbox, priced by it."""
    user = get_user_model().objects.get(username=username)
    return ordering_fixtures.previewed_flow(user=user, card=card, variant=variant, quantity=quantity)


def confirmed(flow: OrderFlow) -> OrderFlow:
    flow_confirm(flow_id=flow.pk, customer_id=flow.customer_id, preview_hash=flow.preview_hash)
    return OrderFlow.objects.get(pk=flow.pk)


def orders_section(username: str) -> str:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    response = client.get("/settings/")
    assert response.status_code == 200
    section = re.search(r'<section class="card" id="orders".*?</section>', response.content.decode(), re.S)
    assert section, "the settings page has no orders section"
    return section.group(0)


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def rows(section: str) -> list[dict[str, str]]:
    """Each order as the customer reads it, by column heading."""
    headings = [text(cell) for cell in re.findall(r"<th scope=\"col\">(.*?)</th>", section, re.S)]
    body = re.search(r"<tbody>(.*?)</tbody>", section, re.S)
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", body.group(1) if body else "", re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        found.append(dict(zip(headings, (text(cell) for cell in cells), strict=True)))
    return found


def test_your_orders_lists_every_conversation_s_orders_newest_first_with_items_total_status_and_number(shop):
    # given alice placed one order, then confirmed another (2 pairs) whose card her bank declined, each in
    # its own conversation, and left a third cart previewed but never confirmed
    placed = confirmed(previewed("alice", card="pm_alice_visa", variant=BLUE_RUNNER_42))
    declined = confirmed(previewed("alice", card="pm_alice_decline", variant=TRAIL_BLAZER_GREEN_43, quantity=2))
    previewed("alice", card="pm_alice_visa", variant=CANVAS_LOW_BLACK_40)
    assert placed.status == FlowStatus.PLACED
    assert declined.status in (FlowStatus.FAILED, FlowStatus.COMPENSATING, FlowStatus.COMPENSATED)
    assert placed.conversation_id != declined.conversation_id
    order = only_order()  # the shop's record, read through the contract

    # when she opens her settings page
    section = orders_section("alice")
    listed = rows(section)

    # then both confirmed orders are there, newest first; the cart she never confirmed is not an order
    assert "Your orders" in text(section)
    assert [row["Items"] for row in listed] == [
        f"2 {TIMES} Trail Blazer (green, 43)",
        f"1 {TIMES} Blue Runner (blue, 42)",
    ]
    assert "Canvas Low" not in section
    failed, done = listed
    # the placed one: the shop's total, in plain words, with the shop's order number
    assert done["Total"] == format_money(order.total().amount, "usd") == format_money(placed.total_amount, "usd")
    assert done["Status"] == "Placed"
    assert done["Order number"] == order.id
    assert done["Date"] == placed.placed_at.strftime("%Y-%m-%d %H:%M")  # UTC in tests, as the page shows it
    # the declined one: what was asked for and its total, not placed, and no order number to quote
    assert failed["Total"] == format_money(declined.total_amount, "usd")
    assert failed["Status"].startswith("Not placed")
    assert failed["Order number"] == "—"
    assert "No orders yet." not in section


def test_bob_never_sees_alice_s_orders_and_alice_never_sees_bob_s(shop):
    # given alice and bob each placed an order
    alice_flow = confirmed(previewed("alice", card="pm_alice_visa", variant=BLUE_RUNNER_42))
    bob_flow = confirmed(previewed("bob", card="pm_bob_visa", variant=CANVAS_LOW_BLACK_40))
    assert alice_flow.status == bob_flow.status == FlowStatus.PLACED
    assert alice_flow.merchant_order_id != bob_flow.merchant_order_id

    # when each opens the settings page
    bob_rows = rows(orders_section("bob"))
    alice_rows = rows(orders_section("alice"))

    # then each sees their own order only
    assert [row["Order number"] for row in bob_rows] == [bob_flow.merchant_order_id]
    assert [row["Items"] for row in bob_rows] == [f"1 {TIMES} Canvas Low (black, 40)"]
    assert [row["Order number"] for row in alice_rows] == [alice_flow.merchant_order_id]
    assert alice_flow.merchant_order_id not in orders_section("bob")
    assert "Blue Runner" not in orders_section("bob")


def test_a_customer_without_orders_reads_no_orders_yet(shop):
    # given alice placed an order and bob has only a cart he never confirmed
    confirmed(previewed("alice", card="pm_alice_visa", variant=BLUE_RUNNER_42))
    previewed("bob", card="pm_bob_visa", variant=CANVAS_LOW_BLACK_40)

    section = orders_section("bob")

    assert rows(section) == []
    assert "No orders yet." in text(section)


def test_a_product_title_with_markup_is_shown_as_text(shop):
    # given the shop names a product with markup in it (the page must never run the shop's text)
    shop.sandbox.products["prod_blue_runner"].title = 'Blue <img src=x onerror="alert(1)"> Runner'
    confirmed(previewed("alice", card="pm_alice_visa", variant=BLUE_RUNNER_42))

    section = orders_section("alice")

    assert "<img" not in section
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in section
    assert rows(section)[0]["Items"].startswith(f'1 {TIMES} Blue <img src=x onerror="alert(1)"> Runner')
