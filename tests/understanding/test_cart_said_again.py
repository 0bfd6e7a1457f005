"""The reader when a customer misreads the preview and says again, as a fix, what it already has ("oops i meant 1 black
L and 1 blue M, not 2 black" at a preview of one black L and one blue M, found by chatting in the widget): the cart is
shown as it stands. It asked how many of each (the message was not read) or changed a line's colour."""

from __future__ import annotations

import pytest

from ordering.agent.commands import SetSlot, ShowCart
from tests.understanding.reading import at_preview, read
from tests.understanding.reading import cart_line as _line

TEES = at_preview(
    _line("var_tech_tee_black_l", "prod_tech_tee", "black", "L"),
    _line("var_tech_tee_blue_m", "prod_tech_tee", "blue", "M"),
)
TEES_TWO_BLACK = at_preview(
    _line("var_tech_tee_black_l", "prod_tech_tee", "black", "L", quantity=2),
    _line("var_tech_tee_blue_m", "prod_tech_tee", "blue", "M"),
)


@pytest.mark.parametrize(
    "said",
    [
        "oops i meant 1 black L and 1 blue M, not 2 black",
        "no i said one black L and one blue M",
        "sorry my mistake, 1 black L and 1 blue M - not two black ones",
    ],
)
def test_the_cart_said_again_as_a_fix_shows_it(generator, said):
    assert read(generator, said, TEES) == [ShowCart()]


@pytest.mark.parametrize(
    ("said", "context"),
    [
        # a colour that is no line's
        ("no i said one black L and one orange M", TEES),
        # one of the two lines only: which one goes is the reader's other rules' to say
        ("sorry i meant one black L", TEES),
        # more of them, not a fix
        ("1 black L and 1 blue M too", TEES),
    ],
)
def test_a_fix_that_is_not_the_cart_as_it_stands_is_not_shown_back(generator, said, context):
    assert read(generator, said, context) != [ShowCart()]


def test_the_cart_said_again_with_another_count_changes_that_lines_count(generator):
    commands = read(generator, "oops i meant 1 black L and 1 blue M, not 2 black", TEES_TWO_BLACK)

    assert [(c.slot, c.value, c.target.variant_id) for c in commands if isinstance(c, SetSlot)] == [
        ("quantity", "1", "var_tech_tee_black_l")
    ]
    assert len(commands) == 1
