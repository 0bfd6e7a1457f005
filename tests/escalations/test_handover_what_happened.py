"""A hand-over's "What happened": why the customer is with a person, in their words, and what their cart, preview or
order was at that moment (the walkthrough's page said only "Customer asked for a person").

The conversation is driven through the chat API as the widget does; the page is the console's, as staff open it.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core import mail
from django.core.cache import cache
from rest_framework.test import APIClient

from escalations.models import Escalation
from ordering.models import FlowStatus, OrderFlow
from tests.conversations.conftest import Chat
from tests.escalations.conftest import detail_url

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


@pytest.fixture
def chat(shop) -> Chat:
    cache.clear()  # the conversation throttle counts in the shared cache
    client = APIClient()
    client.force_login(shop.alice)
    chat = Chat(client)
    chat.start()
    return chat


def what_happened(client, escalation: Escalation) -> str:
    page = client.get(detail_url(escalation)).content.decode()
    section = page.split('id="esc-what"', 1)[1].split("</h2>", 1)[1].split("</p>", 1)[0]
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", section))).strip()
    return re.sub(r" ([:.,])", r"\1", text)


def _money(amount: int) -> str:
    return f"${amount / 100:,.2f}"


def test_a_person_asked_for_at_a_preview_says_her_words_and_the_preview_waiting_for_her_yes(chat, sam, sam_client):
    # given: alice has a preview of the Blue Runner waiting for her yes
    chat.say("Buy the Blue Runner in size 42")
    flow = OrderFlow.objects.get(pk=chat.get()["pending_confirmation"]["flow_id"])
    assert flow.status == FlowStatus.PREVIEWED

    # when: she asks for a person
    chat.say("I'd rather talk to a human about the sizes")

    # then: the page says she asked, in her words, and what was waiting
    escalation = Escalation.objects.get(conversation_id=chat.id)
    assert what_happened(sam_client, escalation) == (
        "Customer asked for a person: They wrote “I'd rather talk to a human about the sizes”. Their preview of "
        f"1x Blue Runner (blue, 42) — {_money(flow.total_amount)} was waiting for their yes: nothing was confirmed "
        "or charged."
    )
    # and the support group's e-mail says the same
    [email] = mail.outbox
    assert "They wrote “I'd rather talk to a human about the sizes”. Their preview of 1x Blue Runner" in email.body


def test_a_person_asked_for_while_an_order_waits_for_the_step_up_code_says_so(chat, settings, sam_client):
    settings.ORDERING_RISK_STEP_UP_SCORE = 10
    chat.say("Buy the Blue Runner in size 42")
    pending = chat.get()["pending_confirmation"]
    assert chat.confirm(pending["preview_hash"]).status_code == 202
    flow = OrderFlow.objects.get(pk=pending["flow_id"])
    assert (flow.status, flow.waiting_for) == (FlowStatus.REQUIRES_ACTION, "step_up")

    chat.say("i want to talk to a person")

    escalation = Escalation.objects.get(conversation_id=chat.id)
    assert what_happened(sam_client, escalation) == (
        "Customer asked for a person: They wrote “i want to talk to a person”. They had confirmed their order of "
        f"1x Blue Runner (blue, 42) — {_money(flow.total_amount)}; it was waiting for their step-up code (from their "
        "authenticator app), nothing charged yet."
    )


def test_a_person_asked_for_after_the_order_was_placed_names_that_order(chat, sam_client):
    chat.say("Buy the Blue Runner in size 42")
    pending = chat.get()["pending_confirmation"]
    assert chat.confirm(pending["preview_hash"]).status_code == 202
    flow = OrderFlow.objects.get(pk=pending["flow_id"])
    assert flow.status == FlowStatus.PLACED

    chat.say("can a real person help me with this order?")

    escalation = Escalation.objects.get(conversation_id=chat.id)
    said = what_happened(sam_client, escalation)
    assert said.startswith(
        "Customer asked for a person: They wrote “can a real person help me with this order?”. Nothing was waiting "
        f"in this chat; their last order here, {flow.merchant_order_id} (1x Blue Runner (blue, 42) — "
        f"{_money(flow.total_amount)}), was placed on "
    )


def test_a_person_asked_for_with_nothing_in_the_chat_says_so(chat, sam_client):
    chat.say("can I speak to someone please")

    escalation = Escalation.objects.get(conversation_id=chat.id)
    assert escalation.reason == "customer_request"
    assert what_happened(sam_client, escalation) == (
        "Customer asked for a person: They wrote “can I speak to someone please”. Their cart was empty and no "
        "order was open in this chat."
    )
