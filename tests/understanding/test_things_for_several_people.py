"""The reader on different things for several people in one message, and on each person's size said after them
(held-out run 54's two wrong orders, in words of our own): "court classics for me, and for my son the 41s plus socks"
keeps whose each thing is (it was no one's, so "just get him the socks, not the shoes" was asked which line, and a yes
to the preview shown again placed his shoes); "both grey, me L, him M" is one each in its size (the first size was
taken for both, and "him..." with his size still to come made two in L)."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, DialogueContext, Option, PendingQuestion, SetSlot
from tests.understanding.reading import read


def _owners(commands):
    [added] = [command for command in commands if isinstance(command, AddItems)]
    return [(item.product_ids, item.size, item.person) for item in added.items]


def test_a_part_that_starts_with_someone_gives_them_what_follows_it(generator):
    commands = read(generator, "court classics 43 for me, and for my nephew the 40s plus a grey beanie")
    assert _owners(commands) == [
        (("prod_court_classic",), "43", "me"),
        (("prod_court_classic",), "40", "nephew"),
        (("prod_beanie",), None, "nephew"),
    ], commands


def test_a_part_that_ends_with_someone_gives_them_what_came_before(generator):
    commands = read(generator, "a navy zip hoodie M and a blue cap for me, and a purple yoga mat for my niece")
    assert [who for _, _, who in _owners(commands)] == ["me", "me", "niece"], commands


def test_her_after_someone_named_is_that_person(generator):
    commands = read(generator, "a red beanie for my niece, a white cap for her too, and a blue cap for me")
    assert [who for _, _, who in _owners(commands)] == ["niece", "niece", "me"], commands


def test_a_thing_said_between_two_people_is_no_ones_when_it_cannot_be_told(generator):
    # the cap: the customer's, said after "for me", or the son's, said before "for my son …"? Not guessed.
    commands = read(generator, "a grey beanie for me plus a blue cap, and for my son a purple yoga mat")
    assert [who for _, _, who in _owners(commands)] == [None, None, None], commands


def test_a_size_before_for_me_plus_another_thing_is_kept(generator):
    commands = read(generator, "navy zip hoodie XL for me plus a white cap please")
    assert [(ids, size) for ids, size, _ in _owners(commands)] == [
        (("prod_zip_hoodie",), "XL"),
        (("prod_run_cap",), None),
    ], commands


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("navy zip hoodies, me XL and him S", [("XL", "me"), ("S", "him")]),
        ("court classics, mine 44, my daughter's 40", [("44", "me"), ("40", "daughter")]),
    ],
)
def test_each_persons_size_said_after_them(generator, said, expected):
    commands = read(generator, said)
    assert [(size, who) for _, size, who in _owners(commands)] == expected, commands


COLOUR_FOR_TWO = DialogueContext(
    pending=PendingQuestion(
        slot="colour",
        options=(Option(value="grey", label="grey"), Option(value="navy", label="navy")),
        product_id="prod_zip_hoodie",
        title="Zip Hoodie",
        quantity=2,
    )
)


def test_a_colour_for_both_then_each_size_answers_one_each(generator):
    commands = read(generator, "navy for both. me XL, her S", COLOUR_FOR_TWO)
    assert SetSlot(slot="size", value="XL") in commands and SetSlot(slot="colour", value="navy") in commands
    assert SetSlot(slot="quantity", value="1") in commands, commands
    assert [(size, who) for _, size, who in _owners(commands)] == [("S", "her")], commands


def test_one_size_said_and_the_other_still_to_come_is_never_two_of_it(generator):
    commands = read(generator, "navy for both. me XL, her... not sure, ill check with her", COLOUR_FOR_TWO)
    assert SetSlot(slot="quantity", value="1") in commands and SetSlot(slot="size", value="XL") in commands
    # hers is one more, in navy, whose size is asked
    assert [(size, who) for _, size, who in _owners(commands)] == [(None, "her")], commands
