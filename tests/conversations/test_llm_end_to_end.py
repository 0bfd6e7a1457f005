"""The LLM generator in a whole conversation: the API, the policy, the sandbox merchant over HTTP, and a
scripted OpenAI-compatible server on a real socket. Whatever the model says, the policy acts: nothing
is ordered without the customer's own yes to the latest preview, an invented product is never
replaced by another, and when the model fails the offline generator answers the same message.
"""

from __future__ import annotations

import time

import pytest

from ordering.agent.prompt import context_from_prompt
from ordering.agent.state import state_load
from ordering.evaluation.sandbox_control import SandboxOrder
from ordering.models import Conversation, ConversationTurn, FlowStatus, OrderFlow
from tests.support.llm_server import (
    HttpFailure,
    ScriptedLLM,
    hang,
    last_user_text,
    offline_brain,
    reply,
    scripted,
    tool_calls,
)
from tests.support.merchant_state import merchant_orders

pytestmark = pytest.mark.usefixtures("eager_tasks")

SEED = "Buy the blue running shoes I liked last week and apply my 10% promo"
YES_WORDS = {"yes", "yes please", "place it", "go ahead"}


@pytest.fixture
def llm_settings(settings):
    def configure(llm: ScriptedLLM, *, timeout: int = 5) -> None:
        settings.LLM_BASE_URL = llm.base_url
        settings.LLM_MODEL = "scripted-model"
        settings.LLM_API_KEY = "test-key"
        settings.LLM_TIMEOUT_SECONDS = timeout
        settings.LLM_RECENT_MESSAGES = 8

    return configure


def competent_brain(body: dict) -> dict:
    """A model that reads the seed request and a yes the way a good one would, from the context it was sent."""
    text = last_user_text(body).strip().lower()
    context, _catalog = context_from_prompt(body["messages"])
    if "liked" in text:
        return tool_calls(
            (
                "add_items",
                {"items": [{"query": "running shoes", "colour": "blue", "saved": "liked", "since_days": 7}]},
            ),
            ("use_my_promotion", {"percent": 10}),
            text="Sure! I'll add the Blue Runner for $64.80 with your promo.",
        )
    if text in YES_WORDS and context.awaiting_confirmation:
        return tool_calls(("confirm", {}))
    if text.startswith(("thanks", "thank you", "ok thanks")):
        return tool_calls(("thanks", {}))
    return tool_calls(("cannot_handle", {"text": text[:100]}))


def _turn_calls(llm: ScriptedLLM, chat, text: str) -> tuple[dict, int]:
    before = len(llm.requests)
    answer = chat.say(text)
    return answer, len(llm.requests) - before


def _placed() -> list[SandboxOrder]:
    return merchant_orders()


def test_the_seed_conversation_through_the_model_previews_and_orders_only_after_a_typed_yes(shop, chat, llm_settings):
    with ScriptedLLM(competent_brain) as llm:
        llm_settings(llm)
        chat.start()

        answer, calls = _turn_calls(llm, chat, SEED)
        pending = answer["pending_confirmation"]
        assert pending is not None, chat.assistant_texts(answer)
        assert pending["preview"]["promo_codes"] == ["ALICE10"]
        assert [(line["title"], line["variant"], line["quantity"]) for line in pending["preview"]["lines"]] == [
            ("Blue Runner", "blue, 42", 1)
        ]
        flow = OrderFlow.objects.get(pk=pending["flow_id"])
        merchant = shop.sandbox.get(f"/checkout_sessions/{flow.checkout_session_id}").json()
        assert pending["preview"]["total"] == {t["type"]: t["amount"] for t in merchant["totals"]}["total"]
        # nothing is ordered by the preview, and the model's own words (its price) were never shown
        assert flow.status == FlowStatus.PREVIEWED and not _placed()
        assert not any("64.80" in text for text in chat.assistant_texts(answer))
        assert calls == 1

        placed, calls_yes = _turn_calls(llm, chat, "yes")

    flow.refresh_from_db()
    assert flow.status == FlowStatus.PLACED
    assert [order.total for order in _placed()] == [pending["preview"]["total"]]
    assert calls_yes <= 2
    assert ConversationTurn.objects.filter(conversation_id=chat.id, planner="llm").count() == 2
    # the model was sent the shop's catalog from the offline reader's lexicon, and the preview was awaiting a yes
    first_context, catalog = llm.requests[0].context()
    assert any(line.startswith("prod_blue_runner: Blue Runner (") for line in catalog)
    assert first_context.awaiting_confirmation is False
    assert llm.requests[-1].context()[0].awaiting_confirmation is True
    assert placed["messages"]


def test_a_model_that_says_confirm_to_thanks_places_nothing(shop, chat, llm_settings):
    def sloppy_brain(body: dict) -> dict:
        if "liked" in last_user_text(body):
            return competent_brain(body)
        return tool_calls(("confirm", {}))  # reads every reply as a yes

    with ScriptedLLM(sloppy_brain) as llm:
        llm_settings(llm)
        chat.start()
        preview = chat.say(SEED)["pending_confirmation"]
        assert preview is not None

        for polite in ("thanks!", "ok thanks", "great, please"):
            answer = chat.say(polite)
            texts = " ".join(chat.assistant_texts(answer))
            assert "Nothing is ordered" in texts, texts

    flow = OrderFlow.objects.get(pk=preview["flow_id"])
    assert flow.status == FlowStatus.PREVIEWED
    assert not _placed()


def test_a_model_that_invents_a_product_id_orders_nothing_else(shop, chat, llm_settings):
    invented = tool_calls(
        ("add_items", {"items": [{"product_ids": ["prod_blue_runner_ultra_x"], "size": "42", "quantity": 2}]})
    )
    with ScriptedLLM(scripted(invented, tool_calls(("confirm", {})))) as llm:
        llm_settings(llm)
        chat.start()
        answer = chat.say("2 pairs of the blue runner ultra x in 42")
        assert answer["pending_confirmation"] is None
        assert chat.assistant_texts(answer), "the customer is told something"

        after = chat.say("yes")

    assert after["pending_confirmation"] is None
    assert state_load(Conversation.objects.get(pk=chat.id).agent_state)["cart"] == []
    assert not OrderFlow.objects.filter(conversation_id=chat.id).exclude(status=FlowStatus.DRAFT).exists()
    assert not _placed()


@pytest.mark.parametrize(
    "brain, timeout",
    [
        (lambda body: HttpFailure(status=500), 5),
        (lambda body: hang(5), 1),
        (scripted(tool_calls(("add_items", {"items": []})), tool_calls(("add_items", {"items": "shoes"}))), 5),
        (lambda body: reply("Done! Your order of Blue Runners is placed, total $12.34."), 5),
    ],
    ids=["server-error", "timeout", "invalid-twice", "text-only"],
)
def test_when_the_model_fails_the_offline_generator_answers_the_same_message(shop, chat, llm_settings, brain, timeout):
    with ScriptedLLM(brain) as llm:
        llm_settings(llm, timeout=timeout)
        chat.start()
        started = time.monotonic()
        answer = chat.say(SEED)
        elapsed = time.monotonic() - started

    pending = answer["pending_confirmation"]
    assert pending is not None, chat.assistant_texts(answer)
    assert pending["preview"]["promo_codes"] == ["ALICE10"]
    assert [line["title"] for line in pending["preview"]["lines"]] == ["Blue Runner"]
    assert ConversationTurn.objects.get(conversation_id=chat.id, planner="llm>offline")
    assert len(llm.requests) <= 2
    assert not any("12.34" in text for text in chat.assistant_texts(answer))
    assert not _placed()
    assert elapsed < 3 * timeout + 5


def test_llm_calls_per_turn_stay_at_most_two_with_a_repair_round(shop, chat, llm_settings):
    def brain(body: dict) -> dict:
        if "liked" in last_user_text(body) and not llm_requests_in_repair(body):
            # first answer breaks the schema, the repair fixes it
            return tool_calls(("add_items", {"items": [{"saved": "liked", "since_days": "last week"}]}))
        return competent_brain(body)

    def llm_requests_in_repair(body: dict) -> bool:
        return body["messages"][-1]["role"] == "tool"

    with ScriptedLLM(brain) as llm:
        llm_settings(llm)
        chat.start()
        per_turn = []
        for text in (SEED, "thanks", "yes"):
            _answer, calls = _turn_calls(llm, chat, text)
            per_turn.append(calls)

    assert per_turn[0] == 2 and llm.requests[1].is_repair
    assert max(per_turn) <= 2
    assert len(_placed()) == 1


def test_the_offline_brain_answers_like_the_offline_generator(shop, chat, llm_settings):
    # The mode `eval_conversations --llm` uses in CI: the scripted model reads each message with the offline
    # generator, from the context the LLM generator sent; the commands then travel as tool calls.
    with ScriptedLLM(offline_brain()) as llm:
        llm_settings(llm)
        chat.start()
        answer = chat.say(SEED)
        pending = answer["pending_confirmation"]
        assert pending is not None, chat.assistant_texts(answer)
        assert pending["preview"]["promo_codes"] == ["ALICE10"]
        chat.say("thanks")
        assert not _placed()
        chat.say("yes")

    assert ConversationTurn.objects.filter(conversation_id=chat.id, planner="llm").count() == 3
    assert len(llm.requests) == 3 and all(request.tool_choice == "required" for request in llm.requests)
    assert [order.total for order in _placed()] == [pending["preview"]["total"]]
