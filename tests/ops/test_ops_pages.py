"""The ops page and trace lookup in the staff console: who may open them, and what they show.

The pages run on real flows placed (and declined) by the saga, so the story on the page is the one it really
wrote: at the in-memory fake merchant (the merchant is not the subject), except the trace whose story shows
what the sandbox merchant received over HTTP under its trace id.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import ActorType
from audit.services import audit_record
from config.tracing import trace_context
from ordering.models import AgentDecision, Message, OrderFlow
from ordering.services import flow_confirm
from tests.ordering import conftest as ordering_fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

# The order-flow tests' sandbox shop on a live socket, and the fake merchant's.
shop = ordering_fixtures.shop
fake_shop = ordering_fixtures.fake_shop

OPS = "/admin/ops/"
TRACE = "/admin/ops/trace/"
CARD = "4242 4242 4242 4242"


def _staff(username: str, *, operations: bool, superuser: bool = False):
    user = get_user_model().objects.create_user(
        username, password="irrelevant-pass-9", is_staff=True, is_superuser=superuser
    )
    if operations:
        group, _ = Group.objects.get_or_create(name="operations")
        group.permissions.add(Permission.objects.get(content_type__app_label="ordering", codename="view_operations"))
        user.groups.add(group)
    return user


@pytest.fixture
def ops_client(otp_login):
    return otp_login(_staff("olga", operations=True))


# -- who may open the pages -------------------------------------------------------------------------


@pytest.mark.parametrize("url", [OPS, TRACE])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(f"/admin/login/?next={url}")


@pytest.mark.parametrize("url", [OPS, TRACE])
def test_staff_who_did_not_enter_a_code_are_sent_to_sign_in(url):
    client = Client()
    client.force_login(_staff("otto", operations=True))  # password only: no verified device in the session

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", [OPS, TRACE])
def test_staff_without_the_operations_permission_are_refused(otp_login, url):
    client = otp_login(_staff("sam", operations=False))

    response = client.get(url)

    assert response.status_code == 403
    index = client.get("/admin/").content.decode()
    assert "Ops dashboard" not in index and "Trace lookup" not in index


@pytest.mark.parametrize("url", [OPS, TRACE])
def test_staff_with_the_permission_and_superusers_open_the_pages(ops_client, otp_login, url):
    assert ops_client.get(url).status_code == 200
    superuser = otp_login(_staff("root", operations=False, superuser=True), client=Client())
    assert superuser.get(url).status_code == 200


def test_the_console_index_links_both_pages(ops_client):
    page = ops_client.get("/admin/").content.decode()

    assert re.search(r'<a href="/admin/ops/"[^>]*>Ops dashboard</a>', page)
    assert re.search(r'<a href="/admin/ops/trace/"[^>]*>Trace lookup</a>', page)
    assert ">Operations</a>" in page


# -- the ops page -----------------------------------------------------------------------------------


def test_the_ops_page_draws_every_chart_for_each_window(ops_client, fake_shop):
    shop = fake_shop
    with trace_context():
        flow = shop.start_flow()
        flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    assert OrderFlow.objects.get(pk=flow.pk).status == "placed"

    for window in ("hour", "day", "week"):
        response = ops_client.get(OPS, {"window": window})
        page = response.content.decode()
        assert response.status_code == 200
        assert page.count('<svg class="ops-chart"') == 9
        ocr = response.context["dashboard"].panel("ocr")
        assert dict(ocr.totals) == {"Flows started": "1", "Placed": "1", "Order completion rate": "100.0%"}
        assert 'class="ops-value">100%</text>' in page
        # nothing was rated or escalated: those charts say so instead of drawing an empty grid
        assert "No customer rated a conversation in this window." in page
        assert "No escalation was opened in this window." in page
    assert "aria-current" in page and "Last week</a>" in page


def test_the_ops_page_costs_the_same_queries_with_or_without_traffic(ops_client, fake_shop):
    shop = fake_shop

    def queries(window: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert ops_client.get(OPS, {"window": window}).status_code == 200
        return len(captured)

    empty = queries("week")
    for card in ("pm_alice_visa", "pm_alice_decline"):
        with trace_context():
            flow = shop.start_flow(card=card)
            flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    assert queries("week") == empty
    assert queries("hour") == empty


def test_an_unknown_window_is_said_and_the_day_shown(ops_client):
    response = ops_client.get(OPS, {"window": "year"})

    assert response.status_code == 200
    assert "There is no window &#x27;year&#x27;: showing the last day." in response.content.decode()
    assert response.context["window"].key == "day"


def test_the_phase_and_arm_controls_narrow_the_page_and_unknown_ones_are_said(ops_client, fake_shop):
    shop = fake_shop
    with trace_context():
        flow = shop.start_flow()
        flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    OrderFlow.objects.filter(pk=flow.pk).update(rollout_phase=2, rollout_arm="assistant")

    assistant = ops_client.get(OPS, {"window": "day", "phase": "2", "arm": "assistant"})
    control = ops_client.get(OPS, {"window": "day", "phase": "2", "arm": "control"})
    unknown = ops_client.get(OPS, {"window": "day", "phase": "7", "arm": "robots"})

    assert dict(assistant.context["dashboard"].panel("ocr").totals)["Placed"] == "1"
    assert "for phase 2 and the assistant arm only" in " ".join(assistant.content.decode().split())
    assert '<option value="control" selected>' in control.content.decode()
    assert control.context["dashboard"].panel("ocr").is_empty
    assert "No order flow was started in this window." in control.content.decode()
    assert unknown.status_code == 200
    assert "There is no phase &#x27;7&#x27;: choose 0, 1, 2 or 3." in unknown.content.decode()
    assert unknown.context["dashboard"].cohort.is_everyone


# -- trace lookup ----------------------------------------------------------------------------------


@pytest.fixture
def two_orders(fake_shop):
    """Alice's placed order under one trace, and her declined one under another (a different conversation), at
    the fake merchant."""
    return _two_orders(fake_shop)


@pytest.fixture
def two_orders_over_http(shop):
    """The same two orders at the sandbox merchant over HTTP, which records the requests it received."""
    return _two_orders(shop)


def _two_orders(shop):
    with trace_context("trace-placed-0001") as placed_trace:
        placed = shop.start_flow()
        flow_confirm(flow_id=placed.pk, customer_id=shop.alice.pk, preview_hash=placed.preview_hash)
    Message.objects.create(conversation=placed.conversation, role="customer", text=f"my card is {CARD}, buy it")
    AgentDecision.objects.create(
        conversation=placed.conversation,
        kind="tool",
        name="preview_order",
        arguments={"card_number": CARD},
        rationale="The customer asked to buy the Blue Runner in size 42.",
    )
    audit_record(
        action="risk.assessed",
        actor_type=ActorType.SYSTEM,
        customer_id=shop.alice.pk,
        target_type="flow",
        target_id=placed.pk,
        policy_version="risk-policy-2026-12-01",
        data={"decision": "allow", "score": 5, "reasons": ["first order"]},
        trace_id=placed_trace,
    )
    audit_record(
        action="compensation.revoke_token",
        actor_type=ActorType.SYSTEM,
        target_type="flow",
        target_id=placed.pk,
        data={"token_ref": "vt_0123456789abcdef"},
        trace_id=placed_trace,
    )
    with trace_context("trace-declined-0002"):
        declined = shop.start_flow(card="pm_alice_decline")
        flow_confirm(flow_id=declined.pk, customer_id=shop.alice.pk, preview_hash=declined.preview_hash)
    return OrderFlow.objects.get(pk=placed.pk), OrderFlow.objects.get(pk=declined.pk)


def _story(client, query: str) -> str:
    response = client.get(TRACE, {"q": query})
    assert response.status_code == 200
    return response.content.decode()


def test_a_trace_id_shows_the_whole_story_of_its_conversation_and_nothing_of_another(ops_client, two_orders_over_http):
    placed, declined = two_orders_over_http
    assert placed.status == "placed" and declined.status in ("compensated", "failed")

    page = _story(ops_client, "trace-placed-0001")

    assert "Found by trace id" in page
    assert str(placed.pk) in page and placed.merchant_order_id in page
    # the messages, the decision with its rationale, the risk decision with its policy version
    assert "The customer asked to buy the Blue Runner in size 42." in page
    assert "Risk decision: allow" in page and "risk-policy-2026-12-01" in page
    # the saga's steps (the payment at the merchant) and the audit events of the trace
    assert "complete_checkout (attempt 1) succeeded" in page
    assert "flow.started" in page and "flow.placed" in page and "conversation.started" in page
    assert '<span class="trace-merchant"' in page
    # the sandbox merchant's own record of each request it received under the story's traces
    assert re.search(r"POST /[\w/-]*checkout_sessions/cs_\w+/complete → 200", page)
    # nor a delegated payment token's id (a credential), wherever a row holds one
    assert "vt_0123456789abcdef" not in page and "vt_[redacted]" in page
    assert not re.search(r"vt_[A-Za-z0-9]{4,}", page)
    # another conversation's order is not in it
    assert str(declined.pk) not in page and "trace-declined-0002" not in page
    # and no card number, from the chat or from a decision's arguments
    assert CARD not in page and "4242424242424242" not in page
    assert "[redacted]" in page


def test_a_failed_flow_shows_its_failed_step_and_its_undo_steps(ops_client, two_orders):
    _, declined = two_orders

    page = _story(ops_client, "trace-declined-0002")

    assert str(declined.pk) in page
    assert "complete_checkout (attempt 1) failed" in page
    assert "Undo registered: cancel_checkout" in page
    assert 'class="trace-entry trace-entry-step trace-failed' in page


@pytest.mark.parametrize("key", ["order flow id", "merchant order id"])
def test_a_flow_id_or_a_merchant_order_id_finds_the_same_story(ops_client, two_orders, key):
    placed, declined = two_orders
    query = str(placed.pk) if key == "order flow id" else placed.merchant_order_id

    page = _story(ops_client, query)

    assert f"Found by {key}" in page
    assert "complete_checkout (attempt 1) succeeded" in page and "trace-placed-0001" in page
    assert str(declined.pk) not in page


def test_an_id_nothing_carries_is_a_clear_message_on_the_form(ops_client, two_orders):
    page = _story(ops_client, "trace-that-never-was")

    assert "Nothing carries “trace-that-never-was”" in page
    assert 'name="q" value="trace-that-never-was"' in page

    too_long = _story(ops_client, "x" * 300)
    assert "ids are at most 128" in too_long

    # a NUL (from a terminal or a binary log) was a 500 from PostgreSQL, which refuses it in a query's text
    for pasted in ("trace\x00-placed-0001", "trace-placed\t0001"):
        response = ops_client.get(TRACE, {"q": pasted})
        assert response.status_code == 200
        assert "has a control character in it" in response.content.decode()


def test_trace_ids_link_to_the_audit_timeline_for_those_who_may_read_the_audit_log(ops_client, otp_login, two_orders):
    # the operations permission alone: the trace ids are shown, not linked to a page that would refuse
    assert "/admin/audit/auditevent/trace/" not in _story(ops_client, "trace-placed-0001")

    auditor = otp_login(_staff("root", operations=False, superuser=True), client=Client())
    page = _story(auditor, "trace-placed-0001")

    assert '<a href="/admin/audit/auditevent/trace/trace-placed-0001/"' in page
    timeline = auditor.get("/admin/audit/auditevent/trace/trace-placed-0001/").content.decode()
    assert "risk.assessed" in timeline
