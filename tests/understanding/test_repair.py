"""Self-corrections inside one message (ordering/agent/understand/repair.py): the value said after an editing
phrase replaces the last value of its kind said before it; anything else is left as it was."""

from __future__ import annotations

import pytest

from ordering.agent.understand.repair import repair_self_corrections
from ordering.agent.understand.text import normalize


def repaired(message: str) -> str:
    return repair_self_corrections(normalize(message))


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("blue runner 42, no sorry, 41", "blue runner 41"),
        ("blue runners 42 no wait 43", "blue runners 43"),
        ("trail blazer black 44 - i mean 45", "trail blazer black 45"),
        ("i would like the blue runner in 42 no wait actually 43", "i would like the blue runner in 43"),
        ("a cap, white, no blue", "a cap , blue"),
        ("cloud jogger grey, sorry blue, size 41", "cloud jogger blue , size 41"),
        ("tempo racer red 42.. actually white", "tempo racer white 42"),
        ("tee in M, sorry L", "tee in l"),
        ("a tee in medium, no sorry large", "a tee in large"),
        ("2 running socks white M no 3", "3 running socks white m"),
        ("2 tech tees blue M, no actually 3", "3 tech tees blue m"),
        ("two blue runners size 42 sorry 41", "two blue runners size 41"),
        ("kettlebell, make that 2", "2 kettlebell"),
        ("blue runner 42, make it 2 pairs", "2 blue runner 42 pairs"),
        ("trail blazer 43 or 44 whichever is in stock", "trail blazer whichever is in stock"),
        ("tech tee size M or L", "tech tee"),
        ("3 white cotton tees: S, M and L", "3 white cotton tees , s , m and l"),
        ("2 blue runners 42 and 43", "2 blue runners , 42 and 43"),
        ("3 cotton tees white S M L", "3 cotton tees white , s , m and l"),
    ],
)
def test_a_value_taken_back_inside_the_message_is_replaced_by_the_one_said_after(message, expected):
    assert repaired(message) == expected


@pytest.mark.parametrize(
    "message",
    [
        "blue runner 42, no sorry, white",  # the colour in a product's name is never replaced
        "actually make it 2",  # no item before: a correction of the cart, read elsewhere
        "no wait, make it 43",
        "oh ok make that 3",
        "yes but make it 2",
        "can you make it 2",
        "socks black, no logos",  # "no" before a word that is no value
        "the blue runner in 42 and a cap, no the red one",  # another item: nothing of its kind before
        "2 caps and a tee",
        "blue runner 42 not 43",  # "not" is read by the corrections of the cart
        "one or two caps",  # counts left open are not sizes
        "3 tees M and L",  # fewer sizes than the count: not one of each
        "2 tech tees blue M and 1 cotton tee black L",
    ],
)
def test_anything_else_is_left_as_it_was(message):
    assert repaired(message) == normalize(message)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # a value of another kind said with "and" right after the repair is part of it (it was a second line)
        ("3 tech tees black M. no wait, make it 2, and in L", "2 tech tees black l"),
        ("2 caps red, sorry, 3 and white", "3 caps white"),
        # "x2" is a count, and "just" goes with the new value
        ("kettlebell x2, i meant just 1", "kettlebell 1"),
        # not part of it: another item
        ("tee M, sorry L, and a cap in white", "tee l , and a cap in white"),
    ],
)
def test_a_repair_takes_the_values_said_with_it(message, expected):
    assert repaired(message) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # the impatient last word wins: "whatever, blue" (only the first colour was kept)
        ("tech tee black M. actually orange. no black. whatever, orange", "tech tee orange m"),
        ("2 caps. no 3. fine, 2", "2 caps"),
        ("the 42 is fine thanks", "the 42 is fine thanks"),
    ],
)
def test_whatever_and_fine_before_a_value_are_the_last_word(message, expected):
    assert repaired(message) == expected
