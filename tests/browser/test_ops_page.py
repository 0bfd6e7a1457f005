"""The ops page and trace lookup in real Chromium at 1280 x 900, signed in as staff with a TOTP code.

The charts are SVG drawn on the server; these tests check that the browser lays them out at a readable
size with the seeded numbers on screen, that the page runs under the Content-Security-Policy without a
violation, and save screenshots (the path is printed; test-artifacts/ is kept out of git).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from config.tracing import trace_context
from tests.browser.conftest import in_thread
from tests.browser.test_csp_pages import Watched
from tests.support.services import ARTIFACTS_DIR

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

VIEWPORT = {"width": 1280, "height": 900}


def _ops_page(chromium, live_server, otp_login):
    """A 1280 x 900 page signed in to the console as a staff member with the operations permission."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    def staff_session() -> str:
        user = get_user_model().objects.create_user("olga", password="irrelevant-pass-9", is_staff=True)
        permission = Permission.objects.get(content_type__app_label="ordering", codename="view_operations")
        user.user_permissions.add(permission)
        return otp_login(user).cookies["sessionid"].value

    session_id = in_thread(staff_session)
    context = chromium.new_context(viewport=VIEWPORT)
    context.add_cookies([{"name": "sessionid", "value": session_id, "url": live_server.url}])
    return context.new_page()


def _save(page, name: str, *, full_page: bool = True) -> str:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    path = ARTIFACTS_DIR / f"ops-{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")  # the path a person opens to look at the page
    return str(path)


def _seed_traffic() -> None:
    """Two hours ago: four flows started, three placed ($50, $70, $90), one failed at the payment; two ratings."""
    from django.contrib.auth import get_user_model

    from ordering.models import Conversation, ConversationRating, FlowStep, OrderFlow

    customer = get_user_model().objects.create_user("carol", password="irrelevant-pass-9")
    when = timezone.now().replace(minute=10, second=0, microsecond=0) - timedelta(hours=2)
    for number, (status, total) in enumerate((("placed", 5000), ("placed", 7000), ("placed", 9000), ("failed", 4000))):
        conversation = Conversation.objects.create(customer=customer)
        flow = OrderFlow.objects.create(
            customer=customer,
            conversation=conversation,
            merchant_id="sandbox",
            checkout_session_id=f"cs_seed_{number}",
            status=status,
            currency="usd",
            total_amount=total,
            merchant_order_id=f"ord_seed_{number}" if status == "placed" else "",
            placed_at=when if status == "placed" else None,
        )
        OrderFlow.objects.filter(pk=flow.pk).update(created_at=when)
        FlowStep.objects.create(
            flow=flow,
            name="complete_checkout",
            attempt=1,
            status="succeeded" if status == "placed" else "failed",
            error_class="" if status == "placed" else "server_error",
            started_at=when,
            finished_at=when + timedelta(seconds=0.3),
        )
        if number < 2:
            rating = ConversationRating.objects.create(conversation=conversation, score=5 - number)
            ConversationRating.objects.filter(pk=rating.pk).update(updated_at=when)


def test_the_ops_page_draws_readable_charts_with_the_seeded_numbers(live_server, chromium, otp_login):
    in_thread(_seed_traffic)
    page = _ops_page(chromium, live_server, otp_login)
    watched = Watched(page)

    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Ops dashboard").first.click()
    page.wait_for_url("**/admin/ops/")
    page.get_by_role("heading", name="Order completion rate").wait_for()
    path = _save(page, "dashboard-day")
    _save(page, "dashboard-day-1280x900", full_page=False)  # what a person sees first

    charts = page.locator("svg.ops-chart")
    assert charts.count() == 9
    ocr = page.locator('svg[data-panel="ocr"]')
    box = ocr.bounding_box()
    # wide enough to read at 1280 px, and within the window (no sideways scrolling)
    assert 900 <= box["width"] <= 1280 - box["x"], box
    assert "75%" in ocr.locator("text.ops-value").all_text_contents()
    assert "70.00" in page.locator('svg[data-panel="aov"] text.ops-value').all_text_contents()
    assert "4.50" in page.locator('svg[data-panel="csat"] text.ops-value').all_text_contents()
    assert "1" in page.locator('svg[data-panel="failures"] text.ops-value').all_text_contents()
    # an axis label is drawn at a size a person reads (12 px in a 1160-wide view box shown ~1100 px wide)
    tick = ocr.locator("text", has_text="time (UTC)").bounding_box()
    assert tick["height"] >= 10, tick
    assert page.get_by_text("Order completion rate: 75.0%").is_visible()
    # nothing was escalated: the chart says so
    assert page.locator('svg[data-panel="escalations"]').get_by_text("No escalation was opened in this window.").count()
    watched.assert_clean()

    page.get_by_role("link", name="Last week").click()
    page.wait_for_url("**window=week")
    assert page.get_by_role("link", name="Last week").get_attribute("aria-current") == "page"
    assert "75%" in page.locator('svg[data-panel="ocr"] text.ops-value').all_text_contents()

    page.get_by_role("link", name="Last hour").click()
    page.wait_for_url("**window=hour")
    assert page.locator('svg[data-panel="ocr"]').get_by_text("No order flow was started in this window.").count()
    _save(page, "dashboard-hour-empty")
    watched.assert_clean()
    assert path.endswith("ops-dashboard-day.png")


def test_trace_lookup_shows_the_story_of_a_real_order(shop, live_server, chromium, otp_login):
    def place() -> tuple[str, str]:
        from ordering.models import OrderFlow
        from ordering.services import flow_confirm

        with trace_context("trace-browser-0001"):
            flow = shop.start_flow()
            flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
        flow = OrderFlow.objects.get(pk=flow.pk)
        return str(flow.pk), flow.merchant_order_id

    flow_id, order_id = in_thread(place)
    page = _ops_page(chromium, live_server, otp_login)
    watched = Watched(page)

    page.goto(f"{live_server.url}/admin/ops/trace/")
    page.get_by_label("Trace id, order flow id, conversation id or merchant order id").fill("trace-browser-0001")
    page.get_by_role("button", name="Look up").click()
    page.wait_for_url("**q=trace-browser-0001")
    story = page.locator("table.trace-story")
    story.wait_for()
    _save(page, "trace")

    assert page.get_by_text("Found by trace id").is_visible()
    assert page.get_by_role("link", name=flow_id).is_visible()
    text = story.inner_text()
    assert "complete_checkout (attempt 1) succeeded" in text
    assert f"Placed: merchant order {order_id}" in text
    assert "flow.started" in text
    watched.assert_clean()

    page.get_by_label("Trace id, order flow id, conversation id or merchant order id").fill("no-such-trace")
    page.get_by_role("button", name="Look up").click()
    page.wait_for_url("**q=no-such-trace")
    assert page.get_by_role("alert").inner_text().startswith("Nothing carries “no-such-trace”")
