"""Canceling an order named by what is in it, with two orders placed in one conversation: "cancel the beanie order"
after a headlamp was ordered, "cancel the grey one" after a grey and a red beanie. The order meant is the latest with
that in it (both canceled the latest order, the headlamp or the red beanie, after a "yes" to a question that did not
name the colour); asked again, it is said to be canceled already; a product never ordered cancels nothing. And "when
will it arrive?" about an order on its way: the days the shop quoted. Run on the in-memory shop, read back at the
shop."""

from __future__ import annotations

import pytest

from ordering.agent.tools.orders import arrival_words
from ordering.evaluation.tasks import task_from_dict
from ordering.models import FlowStatus, OrderFlow
from tests.evaluation.test_conversation_tasks import evaluation_in_memory  # noqa: F401 - the fixture as it is


def _run(runner, *turns: str):
    task = {
        "id": "named-cancel",
        "category": "cancel_and_status",
        "customer": "alice",
        "turns": list(turns),
        "expect": {"order": "none", "reply": "info"},
    }
    outcome = runner.run(task_from_dict(task))
    assert not outcome.error, outcome.error
    return outcome


def _orders(outcome) -> dict[str, str]:
    return {order.lines[0][0]: order.status for order in outcome.orders}


def test_the_beanie_order_is_canceled_not_the_headlamp_ordered_after_it(evaluation_in_memory):  # noqa: F811
    outcome = _run(
        evaluation_in_memory, "grey beanie please", "yes", "a headlamp", "yes", "cancel the beanie order", "yes"
    )

    assert _orders(outcome) == {"var_beanie_grey": "canceled", "var_headlamp": "confirmed"}, outcome.transcript
    asked = next(line for line in outcome.transcript if "Should I ask the shop to cancel it?" in line)
    assert "1x Wool Beanie (grey)" in asked


def test_the_grey_one_of_two_beanies_is_canceled_and_asked_again_is_said_to_be_canceled(evaluation_in_memory):  # noqa: F811
    outcome = _run(
        evaluation_in_memory,
        "grey beanie please", "yes", "and one in red too", "yes", "cancel the grey one", "yes", "cancel the grey one",
    )  # fmt: skip

    assert _orders(outcome) == {"var_beanie_grey": "canceled", "var_beanie_red": "confirmed"}, outcome.transcript
    assert "is already canceled at the shop" in outcome.transcript[-1]


def test_a_product_never_ordered_cancels_nothing(evaluation_in_memory):  # noqa: F811
    outcome = _run(evaluation_in_memory, "grey beanie please", "yes", "cancel the kettlebell", "yes")

    assert _orders(outcome) == {"var_beanie_grey": "confirmed"}, outcome.transcript
    assert any("I can't find a recent order with that item" in line for line in outcome.transcript)


def test_when_it_arrives_is_the_shops_delivery_days_for_an_order_on_its_way(evaluation_in_memory):  # noqa: F811
    outcome = _run(evaluation_in_memory, "grey beanie please", "yes", "when will it arrive?")

    assert outcome.transcript[-1].startswith("A[flow_status]")
    assert "The shop expects it between" in outcome.transcript[-1], outcome.transcript


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (FlowStatus.PLACED, " The shop expects it between Tue Dec 8 and Thu Dec 10."),
        (FlowStatus.PLACING, " The shop expects it between Tue Dec 8 and Thu Dec 10."),
        (FlowStatus.FAILED, ""),  # nothing is on its way
        (FlowStatus.CANCELED, ""),
    ],
)
def test_a_delivery_window_is_said_only_of_an_order_on_its_way(status, said):
    flow = OrderFlow(status=status, preview={"delivery": {"earliest": "2026-12-08", "latest": "2026-12-10"}})

    assert arrival_words(flow) == said
    assert arrival_words(OrderFlow(status=FlowStatus.PLACED, preview={"delivery": None})) == ""


def test_the_red_pair_is_canceled_while_the_white_pair_waits_at_its_preview(evaluation_in_memory):  # noqa: F811
    # "cancel the red one" with a cart of the white pair waiting: it canceled the cart (the white pair) and kept the
    # red order; "yes cancel the red one" to the question about the red pair asked it again
    outcome = _run(
        evaluation_in_memory,
        "tempo racer red 42", "yes", "and the white ones too, same size", "actually cancel the red one",
        "yes cancel the red one",
    )  # fmt: skip

    assert _orders(outcome) == {"var_tempo_racer_red_42": "canceled"}, outcome.transcript
    asked = next(line for line in outcome.transcript if "Should I ask the shop to cancel it?" in line)
    assert "Tempo Racer (red, 42)" in asked
