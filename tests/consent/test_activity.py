"""What a customer sees of the audit log: an allow-list of plain sentences, never the internals.

Alice gets a realistic history (at the in-memory fake merchant, the test rolls back; for the page in Chromium
at the sandbox merchant over HTTP, whose live server must see committed rows): the assistant's tool calls, a
placed order, a declined card, and an order a risk review sent to a specialist, who replied and canceled it
with a staff note. Her activity (API, settings page, detail pages, and the page in Chromium) shows
exactly the expected sentences and none of the staff note, risk, score, tool or trace internals.
"""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.html import escape
from rest_framework.test import APIClient

from audit.models import AuditEvent
from audit.services import audit_record
from consent.activity import ACTIVITY_ACTIONS, activity_entry
from consent.formatting import format_money
from consent.services.grants import consent_grant, spend_caps_set
from escalations.models import Escalation
from escalations.services import escalation_cancel_flow, escalation_reply
from ordering.agent.tools import ToolCall
from ordering.agent.turn import Turn
from ordering.models import FlowStatus, OrderFlow
from ordering.services import conversation_open, flow_confirm
from tests.browser.conftest import in_thread
from tests.ordering.conftest import fake_shop, shop  # noqa: F401 - alice's shop: in memory, or on the live sandbox

STAFF_NOTE = "Velocity pattern matches card testing ring 7; do not approve"
STAFF_REPLY = "Hello Alice, a specialist is checking your order."
CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
FORBIDDEN = ("risk", "score", "tool", "escalat", "velocity", "card testing", "first order", "trace", "staff")

# Every action the code records that a customer must not see (tests/consent/test_activity.py keeps the list
# honest: none of them is on the allow-list, and each maps to nothing).
HIDDEN_ACTIONS = (
    "agent.decided",
    "agent.tool_called",
    "risk.assessed",
    "conversation.started",
    "flow.started",
    "flow.previewed",
    "flow.placing",
    "flow.compensating",
    "flow.compensated",
    "spend.reserved",
    "spend.committed",
    "spend.committed_late",
    "spend.released",
    "compensation.cancel_checkout",
    "compensation.release_spend",
    "compensation.revoke_token",
    "escalation.opened",
    "escalation.claimed",
    "escalation.released",
    "escalation.replied",
    "escalation.priority_changed",
    "escalation.risk_approved",
    "escalation.payment_verified",
    "escalation.compensations_retried",
    "escalation.flow_canceled",
    "escalation.resolved",
    "escalation.handed_back",
    "staff.created",
    "staff.device_replaced",
    "audit.exported",
    "consent.stepup_enrolment_started",
    "consent.stepup_enrolment_failed",
)


def _confirm(shop, **kwargs) -> OrderFlow:  # noqa: F811
    flow = shop.start_flow(**kwargs)
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    return OrderFlow.objects.get(pk=flow.pk)


@pytest.fixture
def history(fake_shop, eager_tasks, settings):  # noqa: F811
    """Alice's history at the fake merchant; returns the flows and the staff member."""
    return _history(fake_shop, settings)


@pytest.fixture
def history_committed(shop, eager_tasks, settings):  # noqa: F811
    """Alice's history at the sandbox merchant over HTTP, committed for the live server the browser reads."""
    return _history(shop, settings)


def _history(shop, settings) -> dict:  # noqa: F811
    alice = shop.alice
    first_seen = AuditEvent.objects.filter(customer_id=alice.pk).order_by("-sequence").first()
    # the assistant looks things up: a handful of tool calls
    conversation = conversation_open(customer_id=alice.pk)
    for query in ("runner", "blue runner", "trail shoe"):
        turn = Turn(conversation=conversation, record=None, customer_text=f"show me {query}")
        turn.call_tool(ToolCall(name="search_products", arguments={"query": query}, rationale="browse"))
    # a first order scored for review goes to a specialist, who replies and cancels it with a note
    review_score = settings.ORDERING_RISK_REVIEW_SCORE
    settings.ORDERING_RISK_REVIEW_SCORE = 10
    reviewed = _confirm(shop)
    settings.ORDERING_RISK_REVIEW_SCORE = review_score
    sam = get_user_model().objects.create_user("sam-support", password="x", is_staff=True)
    escalation = Escalation.objects.get(flow=reviewed, reason="risk_review")
    escalation_reply(escalation_id=escalation.pk, staff_id=sam.pk, text=STAFF_REPLY)
    escalation_cancel_flow(escalation_id=escalation.pk, staff_id=sam.pk, note=STAFF_NOTE)
    # then an order placed with tool calls before it, and one the card issuer declines
    placed = _confirm(shop)
    declined = _confirm(shop, card="pm_alice_decline")
    # bob's events never reach alice
    bob = get_user_model().objects.create_user("bob-activity", password="x")
    consent_grant(user_id=bob.pk, scope="place_orders", via="settings_page")
    spend_caps_set(user_id=bob.pk, caps={"per_day": 18_810})
    return {
        "placed": placed,
        "declined": declined,
        "reviewed": OrderFlow.objects.get(pk=reviewed.pk),
        "staff": sam,
        "bob": bob,
        "since": first_seen.sequence if first_seen else 0,
    }


def _api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _all_entries(client: APIClient, limit: int) -> list[dict]:
    entries, before = [], None
    for _ in range(100):
        url = f"/api/v1/activity/?limit={limit}" + (f"&before={before}" if before else "")
        page = client.get(url).json()
        entries += page["results"]
        before = page["next_before"]
        if before is None:
            return entries
    raise AssertionError("paging never ended")


def _assert_clean(text: str, history: dict) -> None:
    # the CSRF token is random letters and can spell any word ("…friskh…" once did)
    lowered = CSRF_VALUE.sub("", text).lower()
    for word in FORBIDDEN:
        assert word not in lowered, word
    assert STAFF_NOTE.lower() not in lowered
    assert STAFF_REPLY.lower() not in lowered
    assert "sam-support" not in lowered
    assert "188.10" not in text  # bob's cap
    for trace_id in AuditEvent.objects.exclude(trace_id="").values_list("trace_id", flat=True):
        assert trace_id not in text


def test_alice_sees_exactly_the_expected_sentences_and_nothing_internal(history):
    placed, declined, reviewed = history["placed"], history["declined"], history["reviewed"]
    assert placed.status == FlowStatus.PLACED
    assert declined.failure_code == "payment_declined"
    assert reviewed.status == FlowStatus.CANCELED
    alice = placed.customer
    money = format_money

    entries = _all_entries(_api(alice), limit=200)
    newer = [entry for entry in entries if entry["sequence"] > history["since"]]

    assert [entry["text"] for entry in newer] == [
        f"Your Visa card ending 0002 was declined for an order of {money(declined.total_amount, 'USD')}; "
        "nothing was charged",
        f"You confirmed an order of {money(declined.total_amount, 'USD')}",
        f"Your order {placed.merchant_order_id} of {money(placed.total_amount, 'USD')} was placed",
        f"You confirmed an order of {money(placed.total_amount, 'USD')}",
        f"An order of {money(reviewed.total_amount, 'USD')} was cancelled before it was placed",
        "A support specialist replied in your chat",
        f"A support specialist is looking at your order of {money(reviewed.total_amount, 'USD')}",
        f"You confirmed an order of {money(reviewed.total_amount, 'USD')}",
    ]
    placed_entry = newer[2]
    assert placed_entry["kind"] == "order_placed"
    assert placed_entry["amount"] == placed.total_amount and placed_entry["currency"] == "USD"
    assert placed_entry["amount_display"] == money(placed.total_amount, "USD")
    assert placed_entry["order_reference"] == placed.merchant_order_id
    assert newer[0]["kind"] == "card_declined" and newer[0]["card_last4"] == "0002"
    # only the entry's own fields, never the event's
    assert set(placed_entry) == {
        "id",
        "sequence",
        "at",
        "kind",
        "text",
        "amount",
        "currency",
        "amount_display",
        "order_reference",
        "card_last4",
    }
    _assert_clean(json.dumps(entries), history)
    # the seeded history reads as sentences too (cards saved, permissions given)
    older = [entry["text"] for entry in entries if entry["sequence"] <= history["since"]]
    assert "Your account now allows the assistant to place orders for you" in older
    assert "Your Visa card ending 4242 was saved" in older


def test_the_settings_page_and_detail_pages_show_the_same_sentences_and_nothing_internal(history):
    alice = history["placed"].customer
    client = Client()
    client.force_login(alice)

    page = client.get("/settings/").content.decode()
    activity = page[page.index('id="activity"') :]

    placed = history["placed"]
    assert f"Your order {placed.merchant_order_id} of {format_money(placed.total_amount, 'USD')} was placed" in activity
    assert "Your Visa card ending 0002 was declined" in activity
    assert "A support specialist replied in your chat" in activity
    _assert_clean(activity, history)

    for entry in _all_entries(_api(alice), limit=50):
        detail = client.get(f"/settings/activity/{entry['id']}/")
        assert detail.status_code == 200
        body = detail.content.decode()
        assert escape(entry["text"]) in body
        _assert_clean(body, history)


def test_hidden_events_and_other_customers_events_are_not_found(history):
    alice = history["placed"].customer
    api = _api(alice)
    client = Client()
    client.force_login(alice)
    hidden = AuditEvent.objects.filter(customer_id=alice.pk, action__in=HIDDEN_ACTIONS)
    assert {"agent.tool_called", "risk.assessed", "escalation.flow_canceled", "spend.committed"} <= set(
        hidden.values_list("action", flat=True)
    )
    for event in hidden:
        assert api.get(f"/api/v1/activity/{event.pk}/").status_code == 404, event.action
        assert client.get(f"/settings/activity/{event.pk}/").status_code == 404, event.action
    for event in AuditEvent.objects.filter(customer_id=history["bob"].pk):
        assert api.get(f"/api/v1/activity/{event.pk}/").status_code == 404
        assert client.get(f"/settings/activity/{event.pk}/").status_code == 404
    shown = {entry["id"] for entry in _all_entries(api, limit=200)}
    assert not shown & set(AuditEvent.objects.filter(customer_id=history["bob"].pk).values_list("pk", flat=True))
    # and bob sees his own, not alice's
    bobs = _all_entries(_api(history["bob"]), limit=200)
    assert [entry["text"] for entry in bobs] == [
        "You changed your spending caps: daily cap $188.10",
        "You allowed the assistant to place orders for you",
    ]


def test_paging_walks_the_shown_entries_once_each_in_order(history):
    api = _api(history["placed"].customer)
    everything = _all_entries(api, limit=200)
    assert len(everything) > 5

    for limit in (1, 2, 3, 7):
        paged = _all_entries(api, limit=limit)
        assert [entry["id"] for entry in paged] == [entry["id"] for entry in everything], limit
    sequences = [entry["sequence"] for entry in everything]
    assert sequences == sorted(sequences, reverse=True)
    assert api.get("/api/v1/activity/?limit=lots").status_code == 400
    assert api.get("/api/v1/activity/?before=x").status_code == 400


def test_no_hidden_action_is_on_the_allow_list_and_unknown_actions_are_not_shown(db):
    user = get_user_model().objects.create_user("carol-activity", password="x")
    assert not set(HIDDEN_ACTIONS) & ACTIVITY_ACTIONS
    for action in (*HIDDEN_ACTIONS, "something.new", "auth.login_failed"):
        audit_record(action=action, actor_type="system", customer_id=user.pk, data={"note": "internal", "score": 99})
    for event in AuditEvent.objects.filter(customer_id=user.pk):
        assert activity_entry(event) is None, event.action
    assert _api(user).get("/api/v1/activity/").json() == {"results": [], "next_before": None}


@pytest.mark.browser
def test_the_activity_section_in_chromium_reads_as_sentences(history_committed, live_server, chromium):
    history = history_committed
    placed = history["placed"]
    page = chromium.new_page(viewport={"width": 375, "height": 900})
    page.goto(f"{live_server.url}/settings/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-demo-2026")
    page.click("button[type=submit]")
    page.wait_for_url("**/settings/")
    section = page.locator("#activity").inner_text()
    page.get_by_role("link", name=f"Your order {placed.merchant_order_id}").first.click()
    page.wait_for_url("**/settings/activity/**")
    detail = page.locator("body").inner_text()

    assert f"Your order {placed.merchant_order_id} of {format_money(placed.total_amount, 'USD')} was placed" in section
    assert "Your Visa card ending 0002 was declined" in section
    assert "A support specialist replied in your chat" in section
    assert placed.merchant_order_id in detail and format_money(placed.total_amount, "USD") in detail
    in_thread(lambda: _assert_clean(section + "\n" + detail, history))
