"""The reader on shoe sizes said per person, in words of our own (held-out run 54): "a 9 for me and a 10 for my dad"
was read as 9 pairs in size 10, "9 for me and 10 for my dad" was not understood, and "blue runners 42, 2 for me and 1
for my dad" took the 42 for the total and lost the dad's pair."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems
from tests.understanding.reading import read


def _said(commands: list) -> list[tuple]:
    return [
        (item.product_ids, item.size, item.size_said, tuple(item.size_options), item.quantity or 1, item.person)
        for command in commands if isinstance(command, AddItems) for item in command.items
    ]  # fmt: skip


JOGGER = ("prod_cloud_jogger",)


@pytest.mark.parametrize(
    "said",
    ["grey cloud joggers, a 9 for me and a 10 for my dad", "grey cloud joggers, 9 for me and 10 for my dad"],
)
def test_a_bare_shoe_size_for_each_person_is_their_size_not_a_count(generator, said):
    assert _said(read(generator, said)) == [
        (JOGGER, None, "9", ("42", "43"), 1, "me"),
        (JOGGER, None, "10", ("43", "44"), 1, "dad"),
    ]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("grey cloud joggers, a 42 for me and a 44 for my dad", [("42", 1, "me"), ("44", 1, "dad")]),
        # counts stay counts: small numbers with no "a"
        ("grey cloud joggers 43, 2 for me and 1 for my dad", [("43", 2, "me"), ("43", 1, "dad")]),
        # the size said once, after the thing, is everyone's; it is not the total
        ("blue runners 42, 2 for me and 1 for my dad", [("42", 2, "me"), ("42", 1, "dad")]),
        ("3 blue runners 42, 2 for me and 1 for my dad", [("42", 2, "me"), ("42", 1, "dad")]),
    ],
)
def test_sizes_and_counts_per_person(generator, said, expected):
    assert [(size, quantity, person) for _, size, _, _, quantity, person in _said(read(generator, said))] == expected


def test_a_total_that_is_not_the_sum_of_the_counts_is_not_split(generator):
    # "4 blue runners 42" and then 2 + 1: which is right is not for the reader to decide
    items = _said(read(generator, "4 blue runners 42, 2 for me and 1 for my dad"))
    assert [person for *_, person in items] != ["me", "dad"]
