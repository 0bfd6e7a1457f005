"""The reader on held-out run 26 (a third ordinary day, multi-turn), in words of our own. Each case here was read
wrong before: a count corrected into parts kept the first line beside them, "one in 42 one in 43" lost the 43, ..."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, DialogueContext
from ordering.agent.understand import OfflineGenerator
from ordering.evaluation.messages import demo_lexicon


@pytest.fixture(scope="module")
def generator() -> OfflineGenerator:
    return OfflineGenerator(demo_lexicon())


def _read(generator: OfflineGenerator, text: str, context: DialogueContext | None = None) -> list:
    return list(generator.generate(text=text, context=context or DialogueContext()))


def _lines(commands: list) -> list[tuple]:
    return [
        (item.product_ids[0] if len(item.product_ids) == 1 else item.product_ids, item.colour, item.size, item.quantity)
        for command in commands
        if isinstance(command, AddItems)
        for item in command.items
    ]


@pytest.mark.parametrize(
    ("said", "lines"),
    [
        (
            "3 grey cotton tees L, no wait, one L one XL",
            [("prod_cotton_tee", "grey", "L", 1), ("prod_cotton_tee", "grey", "XL", 1)],
        ),
        (
            "2 trail blazers 43 sorry one 43 one 44",
            [("prod_trail_blazer", None, "43", 1), ("prod_trail_blazer", None, "44", 1)],
        ),
        (
            "2 wool beanies red, actually one red one grey",
            [("prod_beanie", "red", None, 1), ("prod_beanie", "grey", None, 1)],
        ),
    ],
)
def test_a_count_corrected_into_parts_is_those_parts_only(generator, said, lines):
    assert _lines(_read(generator, said)) == lines


@pytest.mark.parametrize(
    "said", ["trail blazers one in 43 one in 44", "2 trail blazers one in 43 one in 44", "trail blazer one 43 one 44"]
)
def test_parts_said_one_after_the_other_are_each_read(generator, said):
    assert _lines(_read(generator, said)) == [
        ("prod_trail_blazer", None, "43", 1),
        ("prod_trail_blazer", None, "44", 1),
    ]
