"""The reader on held-out run 33 (first-time customers), and what its re-runs caught, in words of our own. Each case
was read wrong before: a code after "band with the code" ate the "and" of "band" (a search for "fitness b"); sizes said
after the person ("for me in 40 and one for my husband in 44") were 44 pairs of the 40; what the one on the table is for
("just for the gym then") named the Gym Duffel, which was ordered; "12 pairs ... they come in packs of 3 so 4 packs" was
twelve packs; a correction said politely ("I beg your pardon") was searched for."""

from __future__ import annotations

import pytest

from ordering.agent.commands import CartLine, DialogueContext, Option
from tests.understanding.reading import lines, read

PREVIEW_TEE = DialogueContext(
    cart=(
        CartLine(
            variant_id="var_cotton_tee_grey_m", product_id="prod_cotton_tee", title="Organic Cotton Tee", colour="grey",
            size="M", quantity=1,
        ),
    ),
    awaiting_confirmation=True,
)  # fmt: skip
ANSWERED_EARBUDS = DialogueContext(last_shown=(Option(value="prod_earbuds", label="Sport Earbuds"),))


@pytest.mark.parametrize(
    "said", ["grey zip hoodie M and the code SAVE10", "the pink fitness band with the code SAVE10"]
)
def test_a_code_after_a_word_ending_in_and_leaves_the_word(generator, said):
    commands = read(generator, said)
    assert len(lines(commands)) == 1 and lines(commands)[0][0] in ("prod_zip_hoodie", "prod_fitness_band")
    assert any(command.kind == "apply_code" and command.code == "SAVE10" for command in commands)


def test_sizes_said_after_the_person_are_theirs(generator):
    said = "a pair of trail blazers for me in 41 and one for my son in 43 please"
    assert [line[:3] for line in lines(read(generator, said))] == [
        ("prod_trail_blazer", None, "41"),
        ("prod_trail_blazer", None, "43"),
    ]


@pytest.mark.parametrize("said", ["ok, just for the gym then. blue", "mainly for running, blue"])
def test_what_the_one_answered_about_is_for_names_nothing_else(generator, said):
    assert lines(read(generator, said, ANSWERED_EARBUDS)) == [("prod_earbuds", "blue", None, None)]


def test_a_thing_for_a_purpose_is_still_that_thing(generator):
    assert lines(read(generator, "a black duffel for the gym", ANSWERED_EARBUDS))[0][0] == "prod_gym_duffel"


def test_the_packs_worked_out_last_are_the_count(generator):
    said = "i need 9 pairs of black running socks L, they come in packs of 3 so 3 packs"
    assert lines(read(generator, said)) == [("prod_run_socks", "black", "L", 3)]


@pytest.mark.parametrize("said", ["blue runner 42 - I beg your pardon, 43", "blue runner 42, my mistake, 43"])
def test_a_correction_said_politely(generator, said):
    assert lines(read(generator, said)) == [("prod_blue_runner", None, "43", None)]


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("oh dear, I've changed my mind, I don't want it after all", "decline"),
        ("this is all a bit much for me, could a real person finish it off?", "human"),
        ("can I have two of those actually", "set_slot"),
    ],
)
def test_first_time_customers_at_a_preview(generator, said, kind):
    assert [command.kind for command in read(generator, said, PREVIEW_TEE)] == [kind]


def test_what_the_shop_knows_about_me(generator):
    assert [command.kind for command in read(generator, "what information do you hold about me?")] == ["out_of_scope"]


def test_the_little_heart_is_a_like(generator):
    # a like, and asked for: put in the cart (tests/understanding/test_ninth_day.py)
    (add,) = read(generator, "I tapped the little heart on a hoodie last week, can you find it?")
    assert add.kind == "add_items" and add.items[0].saved == "liked"


def test_a_while_back_is_longer_than_recently(generator):
    (add,) = read(generator, "I bought a beanie from you a while back, the same again please")
    assert add.items[0].saved == "purchased" and add.items[0].since_days == 365


@pytest.mark.parametrize(
    "said",
    [
        "Dear Sir/Madam, I would like to order one grey Wool Beanie. Kind regards, Margaret",
        "To whom it may concern, please send me a grey wool beanie. Yours faithfully, Mr Jones",
    ],
)
def test_a_letter_is_its_request(generator, said):
    assert [line[:3] for line in lines(read(generator, said))] == [("prod_beanie", "grey", None)]


def test_an_age_said_of_oneself_is_no_count(generator):
    said = "I'm 71 and my knees aren't what they were. The blue Cloud Jogger in 41 please"
    assert lines(read(generator, said)) == [("prod_cloud_jogger", "blue", "41", None)]


def test_not_sure_how_this_works_then_the_order(generator):
    said = "not sure how this works, do i just say what i want? red beanie"
    assert lines(read(generator, said)) == [("prod_beanie", "red", None, None)]


def test_a_percentage_sum_is_no_count(generator):
    assert [command.kind for command in read(generator, "what's 20% of 65 for the tip?")] == ["out_of_scope"]


def test_without_it_then_after_a_refused_code_changes_nothing(generator):
    assert [command.kind for command in read(generator, "ok, without it then", PREVIEW_TEE)] == ["thanks"]
