"""The LLM command generator against a scripted OpenAI-compatible server on a real socket.

The `openai` package talks HTTP to `tests.support.llm_server.ScriptedLLM`; nothing of openai is mocked.
What is checked: one request per message, with every command kind as a tool and the context as data;
tool calls become exactly the commands the model called; a call that does not fit gets one repair
round; everything else is an `LLMFailure` (counted) so the offline generator answers.
"""

from __future__ import annotations

import json
import time

import pytest
from prometheus_client import REGISTRY

from ordering.agent import prompt
from ordering.agent.commands import (
    COMMAND_TYPES,
    AddItems,
    ApplyCode,
    CartLine,
    ChooseCard,
    Confirm,
    DialogueContext,
    ItemSpec,
    Option,
    PendingQuestion,
    Preview,
    Search,
    Select,
    SetSlot,
    Thanks,
    UseMyPromotion,
    command_schema,
)
from ordering.agent.llm import LLMFailure, LLMGenerator, llm_generator_for_settings
from ordering.evaluation.catalog import demo_products
from tests.support.llm_server import (
    HttpFailure,
    ScriptedLLM,
    hang,
    malformed,
    reply,
    scripted,
    tool_calls,
)

SEED = "Buy the blue running shoes I liked last week and apply my 10% promo"

CATALOG = [
    {
        "id": product.id,
        "title": product.title,
        "category": product.category,
        "colours": list(dict.fromkeys(variant.colour for variant in product.variants)),
        "sizes": list(dict.fromkeys(variant.size or "" for variant in product.variants)),
    }
    for product in demo_products()
]

AFTER_PREVIEW = DialogueContext(
    cart=(CartLine("var_blue_runner_42", "prod_blue_runner", "Blue Runner", "blue", "42", 1),),
    awaiting_confirmation=True,
    cards=(Option("4242", "visa ending 4242"), Option("3220", "mastercard ending 3220")),
    addresses=("home", "work"),
)
EMPTY = DialogueContext(cards=(Option("4242", "visa ending 4242"),), addresses=("home", "work"))


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def llm_settings(settings):
    def configure(llm: ScriptedLLM, *, timeout: int = 5, recent: int = 8) -> LLMGenerator:
        settings.LLM_BASE_URL = llm.base_url
        settings.LLM_MODEL = "scripted-model"
        settings.LLM_API_KEY = "test-key"
        settings.LLM_TIMEOUT_SECONDS = timeout
        settings.LLM_RECENT_MESSAGES = recent
        assert isinstance(llm_generator_for_settings(), LLMGenerator)
        # the sandbox shop's products, as the offline reader's lexicon lists them (the default source)
        return LLMGenerator(catalog=lambda: CATALOG)

    return configure


def test_one_request_per_message_with_one_tool_per_command_kind_and_the_context_as_data(llm_settings):
    script = scripted(
        tool_calls(
            ("add_items", {"items": [{"query": "blue running shoes", "saved": "liked", "since_days": 7}]}),
            ("use_my_promotion", {"percent": 10}),
        )
    )
    with ScriptedLLM(script) as llm:
        generator = llm_settings(llm)
        commands = generator.generate(
            text=SEED,
            context=EMPTY,
            recent=[{"role": "assistant", "text": "Hi Alice! What can I get you?"}, {"role": "customer", "text": SEED}],
            catalog_index=CATALOG,
        )

    assert commands == [
        AddItems(items=(ItemSpec(query="blue running shoes", saved="liked", since_days=7),)),
        UseMyPromotion(percent=10),
    ]
    assert len(llm.requests) == 1 and generator.calls == 1
    request = llm.requests[0]
    assert request.body["model"] == "scripted-model"
    assert request.tool_choice == "required"
    assert sorted(request.tool_names) == sorted(COMMAND_TYPES)
    for tool in request.body["tools"]:
        function = tool["function"]
        assert function["parameters"] == command_schema(function["name"])
        # a sentence for the model, not a dataclass signature like "ApplyCode(code: str = '')"
        assert function["description"] and "(" not in function["description"].split()[0]
        assert ": str" not in function["description"]
    # the context went as JSON data and comes back as the same context
    context, catalog = request.context()
    assert context == EMPTY
    assert "prod_blue_runner: Blue Runner (running-shoes; blue; 40 41 42 43 44 45)" in catalog
    assert "prod_gps_watch: GPS Running Watch (watches; black blue)" in catalog
    # the customer's message goes last, once, even though the pipeline already stored it in `recent`
    roles = [(m["role"], m["content"]) for m in request.messages[1:]]
    assert roles == [("assistant", "Hi Alice! What can I get you?"), ("user", SEED)]
    assert not script.overrun


def test_tool_calls_become_exactly_the_commands_the_model_called_even_odd_quantities(llm_settings):
    said = tool_calls(
        (
            "add_items",
            {
                "items": [
                    {"product_ids": ["prod_blue_runner"], "size": "42", "quantity": -2},
                    {"query": "running socks", "quantity": 10000, "size": "M"},
                ]
            },
        ),
        ("apply_code", {"code": "FAKE99"}),
        ("choose_card", {"last4": "3220"}),
        ("search", {"query": "trail shoes", "price_max": 10000, "sort": "price_asc"}),
    )
    with ScriptedLLM(scripted(said)) as llm:
        commands = llm_settings(llm).generate(
            text="2- blue runners 42 and 10000 socks M with code FAKE99 on my mastercard, and trail shoes under $100",
            context=EMPTY,
            recent=[],
            catalog_index=CATALOG,
        )

    assert commands == [
        AddItems(
            items=(
                ItemSpec(product_ids=("prod_blue_runner",), size="42", quantity=-2),
                ItemSpec(query="running socks", quantity=10000, size="M"),
            )
        ),
        ApplyCode(code="FAKE99"),
        ChooseCard(last4="3220"),
        Search(query="trail shoes", price_max=10000, sort="price_asc"),
    ]


def test_the_models_own_text_is_ignored_and_a_text_only_answer_is_a_failure(llm_settings):
    before = sample("ordering_llm_fallbacks_total", reason="no_commands")
    with ScriptedLLM(
        scripted(
            tool_calls(("thanks", {}), text="Great news, your total is only $12.34 today! Order placed."),
            reply("Sure! Your order of 2 Blue Runners is placed, total $12.34."),
        )
    ) as llm:
        generator = llm_settings(llm)
        assert generator.generate(text="ok thanks", context=AFTER_PREVIEW, recent=[]) == [Thanks()]
        with pytest.raises(LLMFailure) as failure:
            generator.generate(text="ok thanks", context=AFTER_PREVIEW, recent=[])

    assert failure.value.reason == "no_commands"
    assert len(llm.requests) == 2  # a text-only answer gets no repair round: the offline generator answers
    assert sample("ordering_llm_fallbacks_total", reason="no_commands") == before + 1


def test_arguments_that_break_the_schema_get_one_repair_round_then_count(llm_settings):
    first = tool_calls(
        ("add_items", {"items": [{"product_ids": ["prod_blue_runner"], "size": "42", "quantity": "two"}]}),
        ("apply_code", {"code": "RUN15"}),
    )
    fixed = tool_calls(("add_items", {"items": [{"product_ids": ["prod_blue_runner"], "size": "42", "quantity": 2}]}))
    with ScriptedLLM(scripted(first, fixed)) as llm:
        generator = llm_settings(llm)
        commands = generator.generate(text="two blue runners in 42, code RUN15", context=EMPTY, recent=[])

    # the repaired call takes the place of the broken one: the order the customer said them is kept
    assert commands == [
        AddItems(items=(ItemSpec(product_ids=("prod_blue_runner",), size="42", quantity=2),)),
        ApplyCode(code="RUN15"),
    ]
    assert len(llm.requests) == 2 and generator.calls == 2
    repair = llm.requests[1]
    assert repair.is_repair and repair.tool_choice == "required"
    answers = {m["tool_call_id"]: json.loads(m["content"]) for m in repair.messages if m["role"] == "tool"}
    sent_calls = repair.messages[-3]["tool_calls"]
    assert [call["function"]["name"] for call in sent_calls] == ["add_items", "apply_code"]
    broken, accepted = (answers[call["id"]] for call in sent_calls)
    assert broken["ok"] is False and "items.0.quantity" in broken["error"] and "'two'" in broken["error"]
    assert accepted == {"ok": True, "accepted": "apply_code"}


def test_a_repair_that_repeats_every_call_does_not_double_the_accepted_ones(llm_settings):
    first = tool_calls(("apply_code", {"code": "RUN15"}), ("choose_card", {"last4": "42"}))
    everything_again = tool_calls(("apply_code", {"code": "RUN15"}), ("choose_card", {"last4": "4242"}))
    with ScriptedLLM(scripted(first, everything_again)) as llm:
        commands = llm_settings(llm).generate(text="code RUN15, visa 4242", context=EMPTY, recent=[])

    assert commands == [ApplyCode(code="RUN15"), ChooseCard(last4="4242")]


def test_a_repair_that_leaves_a_failed_call_out_is_a_failure_not_a_dropped_request(llm_settings):
    # two things asked, both calls broken; the repair fixes one and forgets the code
    first = tool_calls(("choose_card", {"last4": "42"}), ("apply_code", {"code": "RUN 15"}))
    only_the_card = tool_calls(("choose_card", {"last4": "4242"}))
    with ScriptedLLM(scripted(first, only_the_card)) as llm, pytest.raises(LLMFailure) as failure:
        llm_settings(llm).generate(text="visa 4242 and code RUN 15", context=EMPTY, recent=[])

    assert failure.value.reason == "invalid_commands" and "1 of 2" in failure.value.detail


def test_arguments_invalid_twice_fail_after_exactly_two_requests(llm_settings):
    broken = tool_calls(("set_slot", {"slot": "shoe size", "value": "43"}))
    before = sample("ordering_llm_fallbacks_total", reason="invalid_commands")
    script = scripted(broken, broken, tool_calls(("set_slot", {"slot": "size", "value": "43"})))
    with ScriptedLLM(script) as llm:
        generator = llm_settings(llm)
        with pytest.raises(LLMFailure) as failure:
            generator.generate(text="actually size 43", context=AFTER_PREVIEW, recent=[])

    assert failure.value.reason == "invalid_commands" and "slot" in failure.value.detail
    assert len(llm.requests) == 2 and script.remaining == 1
    assert sample("ordering_llm_fallbacks_total", reason="invalid_commands") == before + 1


@pytest.mark.parametrize(
    "first, problem",
    [
        (tool_calls(("place_order", {"quantity": 10})), "no tool 'place_order'"),
        (tool_calls(("set_slot", '{"slot": "size", "value": 43')), "not JSON"),
        (tool_calls(("set_slot", '["size", "43"]')), "must be a JSON object"),
        # an argument may not turn one command into another
        (tool_calls(("set_slot", {"kind": "confirm", "slot": "size", "value": "43"})), "another kind"),
    ],
    ids=["unknown-tool", "broken-json", "not-an-object", "kind-smuggled"],
)
def test_calls_that_are_not_commands_get_the_error_back_and_one_more_chance(llm_settings, first, problem):
    fixed = tool_calls(("set_slot", {"slot": "size", "value": "43", "correction": True}))
    with ScriptedLLM(scripted(first, fixed)) as llm:
        commands = llm_settings(llm).generate(text="actually size 43", context=AFTER_PREVIEW, recent=[])

    assert commands == [SetSlot(slot="size", value="43", correction=True)]
    error = json.loads(llm.requests[1].messages[-1]["content"])["error"]
    assert problem in error


def test_an_unknown_tool_twice_is_a_failure_not_an_action(llm_settings):
    invented = tool_calls(("confirm_order", {}), ("checkout", {}))
    with ScriptedLLM(scripted(invented, invented)) as llm, pytest.raises(LLMFailure) as failure:
        llm_settings(llm).generate(text="just do it", context=AFTER_PREVIEW, recent=[])

    assert failure.value.reason == "invalid_commands"
    assert "confirm_order" in failure.value.detail and len(llm.requests) == 2


def test_a_server_error_fails_after_the_clients_one_retry(llm_settings):
    before = sample("ordering_llm_calls_total", outcome="http_error")
    with ScriptedLLM(lambda body: HttpFailure(status=500)) as llm:
        generator = llm_settings(llm)
        started = time.monotonic()
        with pytest.raises(LLMFailure) as failure:
            generator.generate(text=SEED, context=EMPTY, recent=[])

    assert failure.value.reason == "http_error" and "500" in failure.value.detail
    assert len(llm.requests) == 2  # one call, one retry by the openai client
    assert time.monotonic() - started < 3
    assert sample("ordering_llm_calls_total", outcome="http_error") == before + 1


def test_a_hanging_endpoint_fails_within_the_timeout_setting(llm_settings):
    with ScriptedLLM(lambda body: hang(10)) as llm:
        generator = llm_settings(llm, timeout=1)
        started = time.monotonic()
        with pytest.raises(LLMFailure) as failure:
            generator.generate(text=SEED, context=EMPTY, recent=[])
        elapsed = time.monotonic() - started

    assert failure.value.reason == "timeout"
    assert len(llm.requests) == 2
    # two attempts of one second each plus the client's short backoff; far from the ten-second hang
    assert 2 <= elapsed < 4.5, elapsed


def test_a_body_that_is_not_json_and_a_closed_port_are_failures(llm_settings, settings):
    with ScriptedLLM(lambda body: malformed()) as llm:
        generator = llm_settings(llm)
        with pytest.raises(LLMFailure) as failure:
            generator.generate(text=SEED, context=EMPTY, recent=[])
    assert failure.value.reason == "bad_response"

    closed = llm.base_url  # the server is gone: nothing listens on that port now
    settings.LLM_BASE_URL = closed
    with pytest.raises(LLMFailure) as failure:
        LLMGenerator(catalog=lambda: None).generate(text=SEED, context=EMPTY, recent=[])
    assert failure.value.reason == "connection"


def test_a_confirm_nobody_asked_for_is_reported_as_said_the_policy_refuses_it(llm_settings):
    # The generator reports what the model read; only the policy may decide a confirmation counts.
    with ScriptedLLM(scripted(tool_calls(("confirm", {})))) as llm:
        commands = llm_settings(llm).generate(text="thanks!", context=EMPTY, recent=[])

    assert commands == [Confirm()]
    context, _ = llm.requests[0].context()
    assert context.awaiting_confirmation is False  # the model was told no preview waits


def test_an_answer_to_the_open_question_reaches_the_model_with_its_options(llm_settings):
    asking = DialogueContext(
        pending=PendingQuestion(
            slot="product",
            options=(Option("prod_trail_blazer", "Trail Blazer"), Option("prod_tempo_racer", "Tempo Racer")),
        ),
        last_shown=(Option("prod_trail_blazer", "Trail Blazer"), Option("prod_tempo_racer", "Tempo Racer")),
    )
    with ScriptedLLM(scripted(tool_calls(("select", {"index": 1})), tool_calls(("preview", {})))) as llm:
        generator = llm_settings(llm)
        assert generator.generate(text="the 2nd one pls", context=asking, recent=[]) == [Select(index=1)]
        assert generator.generate(text="that's all, check out", context=asking, recent=[]) == [Preview()]

    assert llm.requests[0].context()[0] == asking


def test_more_commands_than_one_message_can_hold_is_a_failure(llm_settings):
    flood = tool_calls(*[("apply_code", {"code": f"CODE{number}"}) for number in range(12)])
    with ScriptedLLM(scripted(flood)) as llm, pytest.raises(LLMFailure) as failure:
        llm_settings(llm).generate(text="apply all the codes", context=EMPTY, recent=[])

    assert failure.value.reason == "too_many_commands"


def test_successful_calls_count_calls_and_tokens(llm_settings):
    calls_before = sample("ordering_llm_calls_total", outcome="ok")
    tokens_before = sample("ordering_llm_tokens_total", kind="prompt")
    seconds_before = sample("ordering_llm_call_seconds_count")
    with ScriptedLLM(scripted(tool_calls(("greet", {})))) as llm:
        assert llm_settings(llm).generate(text="hi!", context=EMPTY, recent=[]) == [COMMAND_TYPES["greet"]()]

    assert sample("ordering_llm_calls_total", outcome="ok") == calls_before + 1
    assert sample("ordering_llm_tokens_total", kind="prompt") >= tokens_before + llm.requests[0].size // 4
    assert sample("ordering_llm_call_seconds_count") == seconds_before + 1


def test_no_generator_without_an_endpoint_and_model(settings):
    settings.LLM_BASE_URL = ""
    settings.LLM_MODEL = "some-model"
    assert llm_generator_for_settings() is None
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"
    settings.LLM_MODEL = ""
    assert llm_generator_for_settings() is None


def test_tool_definitions_are_built_once_per_process(llm_settings):
    prompt.command_tools()  # built (or already built) once
    before = prompt.command_tools.cache_info()
    with ScriptedLLM(lambda body: tool_calls(("help", {}))) as llm:
        generator = llm_settings(llm)
        for _ in range(3):
            generator.generate(text="what can you do?", context=EMPTY, recent=[])

    after = prompt.command_tools.cache_info()
    assert after.misses == before.misses and after.hits >= before.hits + 3
    assert llm.requests[0].body["tools"] == llm.requests[2].body["tools"]
