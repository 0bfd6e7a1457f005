"""The reader on held-out run 39 (the December rush: presents for several people, budgets, codes, deadlines before the
holidays), in words of our own. Each case was a wrong order before: the people a list is shared between counted one of
its things ("about $30 each for my 2 sisters - a red beanie for one and a blue steel bottle for the other" ordered two
bottles); where it has to go, said as a need ("it needs to go to work so she doesn't see it"), was not read, and the
order went to the home address; a change said with who it is for ("actually make that two, her sister will want one
too") was not understood, and the one beanie was ordered."""

from __future__ import annotations

import pytest

from ordering.agent.commands import CartLine, ChooseAddress, DialogueContext, SetSlot
from ordering.agent.understand import OfflineGenerator
from ordering.evaluation.messages import demo_lexicon
from tests.understanding.reading import lines, read

TEE = DialogueContext(
    cart=(
        CartLine(variant_id="var_tech_tee_orange_s", product_id="prod_tech_tee", title="Tech Running Tee",
                 colour="orange", size="S", quantity=1),
    ),
    awaiting_confirmation=True,
)  # fmt: skip
BEANIE = DialogueContext(
    cart=(
        CartLine(variant_id="var_beanie_red", product_id="prod_beanie", title="Wool Beanie", colour="red", size=None,
                 quantity=1),
    ),
    awaiting_confirmation=True,
)  # fmt: skip


@pytest.fixture(scope="module")
def generator() -> OfflineGenerator:
    return OfflineGenerator(demo_lexicon())


@pytest.mark.parametrize(
    "said",
    [
        "about $30 each for my 2 sisters - a red beanie for one and a blue steel bottle for the other",
        "for my two nephews: a red beanie for one and a blue steel bottle for the other",
    ],
)
def test_things_shared_out_between_people_are_one_each(generator, said):
    assert sorted(lines(read(generator, said))) == [
        ("prod_beanie", "red", None, 1),
        ("prod_steel_bottle", "blue", None, None),
    ]


@pytest.mark.parametrize(
    "said",
    ["it needs to go to work so she doesn't see it", "they have to be delivered to the office please"],
)
def test_where_it_has_to_go_said_as_a_need_is_the_address(generator, said):
    # the office is the work address (the label the reader gives it)
    assert ChooseAddress(label="work") in read(generator, said, TEE)


def test_a_count_changed_with_who_the_other_one_is_for_is_the_count(generator):
    [change] = read(generator, "actually make that two, her sister will want one too", BEANIE)
    assert isinstance(change, SetSlot) and (change.slot, change.value) == ("quantity", "2")
