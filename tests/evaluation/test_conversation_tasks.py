"""The multi-turn evaluation (ordering/evaluation/tasks.py): the corpus is well formed, the judge catches
what it must (wrong orders, unconfirmed charges, wrong replies), and the offline generator meets the bar
on the whole corpus, which is how CI enforces it: no wrong order, no unconfirmed charge, every task a success (the
bar is 95%; the shipped corpus, the reader's regression suite, passes whole) (in
chunks of whole categories that each meet it, see "the gate" below).

Everything runs against the real system: the conversation API, the saga run eagerly, the end state read back
at the merchant through the merchant contract. Two of the judge's tests, and `manage.py eval_conversations`
(`make eval`, with the sandbox in its own process), talk to the sandbox merchant over HTTP (here on
pytest-django's live server); the other judge tests and the gate's chunks talk to the in-memory fake merchant
(tests/support/fake_merchant.py: the sandbox's demo shop and its own pricing and checkout rules, held to the
sandbox by tests/merchant_client/test_fake_merchant_parity.py) in tests that roll back: the same runner, handed
the fake's controls instead of the sandbox's control API. Served over HTTP in the test's own process, the
sandbox cost the gate most of its time (its request handling in the live server's thread, the HTTP client, a
flush after each chunk), and none of that is what the gate measures: what the assistant understood and did,
read back at the shop. Every task of the corpus ends the same on both shops, transcript included (#18).
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.cache import cache

import consent.demo
from catalog_adapters.registry import get_merchant
from config.schema import schema_key
from ordering.evaluation.catalog import demo_products, demo_promotion_codes, demo_variant
from ordering.evaluation.report import (
    DEFAULT_MIN_SUCCESS,
    failures_text,
    gate_problems,
    summarize,
    summary_table,
)
from ordering.evaluation.sandbox_control import SandboxControl
from ordering.evaluation.tasks import (
    REPLY_CLASSES,
    CorpusError,
    TaskRunner,
    eager_environment,
    evaluation_environment,
    mentions,
    task_from_dict,
    tasks_load,
)
from tests.support import zygote
from tests.support.corpus_report import CORPUS_OUTCOMES, outcome_record
from tests.support.wallet_replay import demo_wallet_replaying

REPOSITORY = Path(__file__).resolve().parents[2]

CATEGORIES = {
    "simple_order", "multi_item", "sizes_us_eu", "correction", "clarification", "saved_items", "promo_codes",
    "card_address_shipping", "browse_then_buy", "questions_digression", "politeness_not_confirm",
    "quantity_limits", "caps_and_consent", "cancel_and_status", "out_of_scope", "human", "adversarial",
}  # fmt: skip


def _shop_variants() -> set[str]:
    return {variant.id for product in demo_products() for variant in product.variants}


def _available(variant_id: str) -> int:
    """Units the shop offers now (stock less live holds), read through the merchant contract."""
    product, _ = demo_variant(variant_id)
    served = get_merchant("sandbox").catalog.get_product(product_id=product.id)
    return next(variant.available for variant in served.variants if variant.id == variant_id)


def _task(text: str):
    return task_from_dict(yaml.safe_load(text))


# -- the corpus ------------------------------------------------------------------------------------------


def test_the_corpus_has_at_least_80_tasks_covering_every_category():
    tasks = tasks_load()

    assert len(tasks) >= 80
    by_category = {category: [t for t in tasks if t.category == category] for category in CATEGORIES}
    assert {t.category for t in tasks} == CATEGORIES
    assert all(len(found) >= 3 for found in by_category.values()), {k: len(v) for k, v in by_category.items()}
    # Both demo customers, several multi-conversation and button tasks, and tasks that expect no order.
    assert {t.customer for t in tasks} == {"alice", "bob"}
    assert sum(any(step.click for step in t.steps) for t in tasks) >= 5
    assert sum(any(step.new_conversation for step in t.steps) for t in tasks) >= 2
    assert 30 <= sum(t.expect.order is None for t in tasks) <= len(tasks) - 30


def test_every_expectation_names_what_the_shop_sells_and_every_order_has_a_confirmation():
    variants = _shop_variants()
    codes = demo_promotion_codes()
    for task in tasks_load():
        for variant, _units in (task.setup.get("stock") or {}).items():
            assert variant in variants, (task.id, variant)
        if task.expect.order is None:
            assert task.expect.reply and set(task.expect.reply) <= set(REPLY_CLASSES), task.id
            continue
        for variant, quantity in task.expect.order.lines:
            assert variant in variants, (task.id, variant)
            assert quantity >= 1
        assert set(task.expect.order.codes) <= codes, task.id
        confirmed = any(step.confirms for step in task.steps) or task.setup.get("auto_checkout")
        assert confirmed, f"{task.id} expects an order but nothing in it confirms one"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"id": "x", "category": "c", "turns": ["hi"]}, "mapping with 'order'"),
        ({"id": "x", "category": "c", "turns": ["hi"], "expect": {"order": "none"}}, "reply"),
        ({"id": "x", "category": "c", "turns": ["hi"], "expect": {"order": "none", "reply": "maybe"}}, "maybe"),
        ({"id": "x", "category": "c", "customer": "carol", "turns": ["hi"], "expect": {"order": "none"}}, "customer"),
        ({"id": "x", "category": "c", "turns": [{"click": "buy"}], "expect": {"order": "none"}}, "click"),
        (
            {"id": "x", "category": "c", "turns": ["hi"],
             "expect": {"order": {"lines": [{"variant_id": "v", "quantity": 0}]}}},
            "quantity",
        ),
    ],
)  # fmt: skip
def test_a_malformed_task_is_refused_naming_the_task_and_the_field(raw, problem):
    with pytest.raises(CorpusError) as refused:
        task_from_dict(raw)
    assert "'x'" in str(refused.value) and problem in str(refused.value)


def test_typed_confirmations_are_exact_phrases_or_marked_by_the_corpus():
    task = _task(
        """
        id: t
        category: c
        turns: ["Yes please!", "thanks", "ok thanks", "please", "yes but in 43", {say: "fine by me", confirms: true}]
        expect: {order: none, reply: info}
        """
    )
    assert [step.confirms for step in task.steps] == [True, False, False, False, False, True]


def test_mentions_are_whole_words():
    assert mentions("Only 4 left in size 43.", "4")
    assert not mentions("Size 43 costs $72.54", "4")
    assert mentions("Your per-order cap is $100.00.", "$100")
    assert mentions("Change it at /settings/.", "settings")
    assert not mentions("The code FAKE990 is unknown", "FAKE99")


# -- the judge, against the real system -------------------------------------------------------------------
# Two tests run the runner end to end on the sandbox over HTTP, as `make eval` does (its control API: the end state
# read back, the demo shop put back between tasks, stock held and released); the judge's own verdicts are checked
# on the in-memory fake merchant, which answers as the sandbox (the gate below runs on it too).

ORDER_42 = """
id: judge
category: simple_order
customer: alice
turns: ["Blue Runner in size 42", "yes"]
expect:
  order: {lines: [{variant_id: var_blue_runner_42, quantity: 1}]}
"""


def _throttles_cleared() -> None:
    """The message throttle's counters (30 turns a minute per customer) live in this run's Redis index, keyed by the
    customer's id, and the test database gives the same ids again in the next run: a chunk run twice within a minute
    was throttled by the first run's turns ("posting 'grey' answered 429")."""
    cache.clear()


@pytest.fixture
def evaluation(live_server, transactional_db, settings):
    """The runner on the sandbox merchant over HTTP (a live server of this site), with real commits."""
    settings.LLM_BASE_URL = ""
    settings.LLM_MODEL = ""
    _throttles_cleared()
    with evaluation_environment(server_url=live_server.url):
        yield TaskRunner()


@pytest.fixture
def evaluation_in_memory(production_commits, fake_merchant, settings, monkeypatch):
    """The runner on the in-memory fake merchant, registered as "sandbox", in a test that rolls back: on_commit
    callbacks (the saga's enqueues) run where production commits (`production_commits`), and the shop's order
    events reach our webhook receiver as the sandbox's webhooks do (`order_events`). Each task's fresh customer
    gets the demo wallet the services gave the first one in this process, written again in a few statements
    (tests/support/wallet_replay.py)."""
    settings.LLM_BASE_URL = ""
    settings.LLM_MODEL = ""
    monkeypatch.setattr(consent.demo, "demo_wallet_give", demo_wallet_replaying)
    fake_merchant.order_events = True
    _throttles_cleared()
    with eager_environment():
        yield TaskRunner(control=fake_merchant.control)


def test_the_end_state_is_read_at_the_merchant(evaluation):
    outcome = evaluation.run(_task(ORDER_42))

    assert outcome.success, outcome.failures + outcome.transcript
    [order] = outcome.orders
    assert order.lines == (("var_blue_runner_42", 1),)
    assert (order.card_last4, order.address_label, order.shipping) == ("4242", "Home", "standard")
    assert order.status == "confirmed"
    assert order.confirmed_via == "typed"
    # The order the runner read through the contract is the shop's own record, for alice.
    assert [placed.id for placed in SandboxControl().orders(customer="cus_alice")] == [order.order_id]
    assert not outcome.wrong_order and not outcome.unconfirmed_charge
    assert outcome.turns == 2


def test_an_order_other_than_expected_is_a_wrong_order(evaluation_in_memory):
    task = _task(ORDER_42.replace("var_blue_runner_42", "var_blue_runner_43"))

    outcome = evaluation_in_memory.run(task)

    assert outcome.wrong_order and not outcome.success
    assert any("1x var_blue_runner_42, expected 1x var_blue_runner_43" in failure for failure in outcome.failures)


def test_another_card_than_expected_is_a_wrong_order(evaluation_in_memory):
    task = _task(ORDER_42.replace("quantity: 1}]}", 'quantity: 1}], card_last4: "0002"}'))

    outcome = evaluation_in_memory.run(task)

    assert outcome.wrong_order
    assert any("card 4242, expected 0002" in failure for failure in outcome.failures)


def test_an_order_when_none_was_expected_is_a_wrong_order(evaluation_in_memory):
    expected = "order: {lines: [{variant_id: var_blue_runner_42, quantity: 1}]}"
    task = _task(ORDER_42.replace(expected, "order: none\n  reply: info"))

    outcome = evaluation_in_memory.run(task)

    assert outcome.wrong_order and not outcome.success
    assert any("none was expected" in failure for failure in outcome.failures)


def test_an_order_placed_on_words_that_are_not_a_confirmation_is_an_unconfirmed_charge(evaluation_in_memory):
    task = _task(ORDER_42.replace('"yes"]', '{say: "yes", confirms: false}]'))

    outcome = evaluation_in_memory.run(task)

    assert outcome.unconfirmed_charge and not outcome.success
    assert any("UNCONFIRMED CHARGE" in failure for failure in outcome.failures)


def test_the_confirm_button_is_a_confirmation_and_a_stale_card_places_nothing(evaluation_in_memory):
    clicked = evaluation_in_memory.run(
        _task(
            """
            id: click
            category: simple_order
            customer: bob
            turns: ["Blue Runner in size 44", {click: confirm}]
            expect: {order: {lines: [{variant_id: var_blue_runner_44, quantity: 1}]}}
            """
        )
    )
    assert clicked.success, clicked.failures + clicked.transcript
    assert clicked.orders[0].confirmed_via == "button" and clicked.orders[0].card_last4 == "1881"

    never_shown = evaluation_in_memory.run(
        _task(
            """
            id: click-nothing
            category: adversarial
            customer: bob
            turns: [{click: confirm}]
            expect: {order: none, reply: info}
            """
        )
    )
    assert never_shown.orders == [] and not never_shown.wrong_order


def test_each_task_starts_from_the_demo_shop_with_no_stock_held(evaluation):
    # given a task that sets stock and leaves a previewed, unconfirmed cart behind
    held = evaluation.run(
        _task(
            """
            id: hold
            category: politeness_not_confirm
            customer: alice
            setup: {stock: {var_blue_runner_42: 3}}
            turns: ["Blue Runner in size 42"]
            expect: {order: none, reply: preview}
            """
        )
    )
    assert held.success, held.failures + held.transcript
    # then its reservation ended with it, and the next task sees the demo stock (8)
    assert _available("var_blue_runner_42") == 3
    evaluation.run(_task(ORDER_42))
    assert _available("var_blue_runner_42") == 8 - 1


def test_the_last_reply_and_its_words_are_checked(evaluation_in_memory):
    outcome = evaluation_in_memory.run(
        _task(
            """
            id: reply
            category: questions_digression
            customer: bob
            turns: ["how much is the GPS watch?"]
            expect: {order: none, reply: handover, reply_mentions: ["$1,000,000"], mentions: ["NOPE"]}
            """
        )
    )

    assert not outcome.success and not outcome.wrong_order
    assert any(failure.startswith("last reply is") and "expected handover" in failure for failure in outcome.failures)
    assert any("does not mention '$1,000,000'" in failure for failure in outcome.failures)
    assert any("mentions 'NOPE'" in failure for failure in outcome.failures)


# -- the gate: the whole corpus, offline, in chunks ------------------------------------------------------------

# The corpus runs as a few tests of about the same work, which pytest-xdist spreads over its workers, instead of one
# test of a minute or more that sets the suite's floor. Each chunk must pass the gate itself: no wrong order, no
# unconfirmed charge, every one of its tasks a success. Together the chunks hold every task once, so when every chunk
# passes, the whole corpus does (its success is the chunks' weighted mean); the run ends with the whole corpus'
# table, by category (tests/support/corpus_report.py gathers every chunk's tasks). The chunks run on the in-memory fake
# merchant (`evaluation_in_memory`); `make eval` runs the same corpus against the sandbox over HTTP, and gives the same
# outcome for every task. A category is split between chunks where it is larger than a chunk's share: whole
# categories left "correction" alone at 1.4 times a share (21.8 s against 11-13 s for the others), the run's tail.
CORPUS_CHUNKS = 8
SHIPPED_CORPUS_MIN_SUCCESS = 1.0


def corpus_chunks(tasks: list, *, count: int = CORPUS_CHUNKS) -> list[tuple[str, ...]]:
    """The ids of `tasks` in `count` groups of about the same work (a task's turns, plus one for its set-up), in the
    corpus' order by category, so that a chunk holds few categories and a large one is split."""
    ordered = sorted(tasks, key=lambda task: task.category)  # stable: the corpus' order within a category
    total = sum(task.turns + 1 for task in ordered)
    groups: list[list[str]] = [[]]
    load = 0
    for task in ordered:
        if load >= total * len(groups) / count and len(groups) < count:
            groups.append([])
        groups[-1].append(task.id)
        load += task.turns + 1
    return [tuple(group) for group in groups if group]


_CORPUS_TASKS = tasks_load()
_CATEGORY_OF = {task.id: task.category for task in _CORPUS_TASKS}


def _chunk_name(chunk: tuple[str, ...]) -> str:
    """The chunk's categories ("correction", "correction+multi_item"); pytest numbers two of the same name."""
    return "+".join(sorted({_CATEGORY_OF[task_id] for task_id in chunk}))


def test_the_chunks_hold_every_task_of_the_corpus_exactly_once():
    tasks = tasks_load()
    chunks = corpus_chunks(tasks)

    assert len(chunks) == CORPUS_CHUNKS
    chunked = [task_id for chunk in chunks for task_id in chunk]
    assert sorted(chunked) == sorted(task.id for task in tasks)
    # about the same work in each: the largest chunk is less than one and a half times the smallest
    turns = {task.id: task.turns + 1 for task in tasks}
    sizes = sorted(sum(turns[task_id] for task_id in chunk) for chunk in chunks)
    assert sizes[-1] < 1.5 * sizes[0], sizes


@pytest.mark.timeout(600)
@pytest.mark.parametrize("chunk", corpus_chunks(_CORPUS_TASKS), ids=_chunk_name)
def test_the_offline_generator_meets_the_bar_on_the_corpus(evaluation_in_memory, chunk, record_property):
    # Hundreds of turns log a JSON line per request and step; capturing them all only slows the run,
    # and a failure shows each failed task's transcript instead.
    logging.disable(logging.WARNING)
    try:
        outcomes = [evaluation_in_memory.run(task) for task in tasks_load(task_ids=list(chunk))]
    finally:
        logging.disable(logging.NOTSET)
    record_property(CORPUS_OUTCOMES, [outcome_record(outcome) for outcome in outcomes])
    summary = summarize(outcomes)
    table = summary_table(summary)
    print(table)

    # The bar is 95 % (DEFAULT_MIN_SUCCESS, `make eval`'s default); the shipped corpus is also the reader's regression
    # suite and passes whole, so every chunk must pass every task: at 95 % a chunk let one regressed task through
    # (h14-an-answer-then-also-another-item, caught only by `make eval`).
    problems = gate_problems(summary, min_success=max(DEFAULT_MIN_SUCCESS, SHIPPED_CORPUS_MIN_SUCCESS))
    assert not problems, "\n".join([*problems, "", table, "", failures_text(summary, transcripts=True)])


# -- `manage.py eval_conversations` from a clean checkout: SQLite, no services --------------------------------


def _eval_command(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE"}
        and not key.startswith("LLM_")
    }
    environment["VAR_DIR"] = str(tmp_path / "var")
    return zygote.run(
        [sys.executable, "manage.py", "eval_conversations", *arguments],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.timeout(600)
def test_the_command_prints_the_table_writes_json_and_fails_on_a_wrong_order(tmp_path):
    corpus = tmp_path / "tasks.yaml"
    wrong = yaml.safe_load(ORDER_42.replace("var_blue_runner_42", "var_blue_runner_43"))
    wrong["id"] = "expects-43"
    weather = {
        "id": "weather",
        "category": "out_of_scope",
        "turns": ["what's the weather in Paris tomorrow?"],
        "expect": {"order": "none", "reply": "info"},
    }
    corpus.write_text(yaml.safe_dump({"tasks": [wrong, weather]}))
    report = tmp_path / "out.json"
    # a migrated copy kept for an older schema: replaced by this schema's
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "eval-db-migrated-000000000000.sqlite3").write_bytes(b"old schema")

    failed = _eval_command(
        tmp_path, "--corpus", str(corpus), "--json", str(report), "--min-success", "0", "--no-messages"
    )

    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "| **all** | 2 |" in failed.stdout and "WRONG ORDER" in failed.stdout
    assert "FAIL: 1 task(s) ended with a WRONG ORDER" in failed.stderr
    written = json.loads(report.read_text())
    assert written["summary"]["total"]["wrong_orders"] == 1
    assert {task["task"] for task in written["tasks"]} == {"expects-43", "weather"}
    # the throw-away database is gone; a migrated copy of it stays for the next run, for this schema only
    assert list((tmp_path / "var").glob("eval-db-[0-9]*")) == []
    assert [path.name for path in (tmp_path / "var").glob("eval-db-migrated-*")] == [
        f"eval-db-migrated-{schema_key()}.sqlite3"
    ]

    # Two runs at once (say `make eval` and `make eval EVAL_ARGS=--llm`) each have their own database: each resets
    # the sandbox's shop, which in a shared one broke the other's tasks ("POST sandbox/reset answered 500").
    # (the system checks ran in the first run: not again, ~0.5 s of CPU)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(
            lambda _: _eval_command(tmp_path, "--corpus", str(corpus), "--task", "weather", "--no-messages",
                                    "--skip-checks"),
            range(2),
        ))  # fmt: skip
    for passed in runs:
        assert passed.returncode == 0, passed.stdout + passed.stderr
        assert "PASS" in passed.stdout
    assert list((tmp_path / "var").glob("eval-db-[0-9]*")) == []
