"""The reader on held-out run 40 (new year, new kit: presents that did not fit, kit worn out over the year, partners
starting too), in words of our own. Each case was a wrong order before: a present "too small" or "too tight" ordered the
size it came in beside the one asked for ("too tight" also named the running tights), "same again" after the worn-out
thing added the customer's last purchase beside it, "same shoes for my wife, she's a 38" changed the customer's own
pair, "just 1, the other two were for …" and "actually L, …ing …" were not understood, and "the running shoe one on
…" and "… so it counts" lost the code."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, CartLine, DialogueContext, SetSlot, UseMyPromotion
from tests.understanding.reading import lines, read


def _cart(variant: str, product: str, colour: str | None, size: str | None, quantity: int = 1) -> DialogueContext:
    line = CartLine(variant_id=variant, product_id=product, title=product, colour=colour, size=size, quantity=quantity)
    return DialogueContext(cart=(line,), awaiting_confirmation=True)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("got a grey zip hoodie for xmas but it's too small, need an XL", ("prod_zip_hoodie", "grey", "XL", None)),
        ("my nan gave me wool socks in M and they're a bit too tight, L please", ("prod_wool_socks", None, "L", None)),
        ("my brother got me tempo racers in a 41 for my birthday, too tight. can i get a 42", ("prod_tempo_racer", None,
                                                                                                "42", None)),
    ],
)  # fmt: skip
def test_a_present_that_did_not_fit_is_the_thing_in_the_size_asked_for(generator, said, expected):
    assert lines(read(generator, said)) == [expected]


def test_same_again_after_the_worn_out_thing_is_that_thing_only(generator):
    [command] = read(generator, "my cloud joggers have finally had it, same again please")
    assert isinstance(command, AddItems)
    [item] = command.items
    assert item.product_ids == ("prod_cloud_jogger",)


@pytest.mark.parametrize("said", ["same shoes for my wife, she's a 41", "same shoes for my husband in 41"])
def test_the_same_shoes_for_someone_in_their_size_keeps_the_customers_own_pair(generator, said):
    commands = read(generator, said, _cart("var_cloud_jogger_grey_43", "prod_cloud_jogger", "grey", "43"))
    assert not any(isinstance(command, SetSlot) for command in commands), commands
    assert lines(commands) == [("prod_cloud_jogger", "grey", "41", None)]


def test_who_the_rest_were_for_is_no_request(generator):
    commands = read(
        generator,
        "just 1, the other two were for friends who have already quit",
        _cart("var_soft_flask", "prod_soft_flask", None, None, quantity=3),
    )
    assert [(command.slot, command.value) for command in commands if isinstance(command, SetSlot)] == [
        ("quantity", "1")
    ]


@pytest.mark.parametrize(
    ("said", "size"), [("actually L, layering up for the cold", "L"), ("no make it XL, bulking up this winter", "XL")]
)
def test_what_the_customer_is_doing_said_last_is_why(generator, said, size):
    commands = read(generator, said, _cart("var_zip_hoodie_grey_m", "prod_zip_hoodie", "grey", "M"))
    assert [(command.slot, command.value) for command in commands if isinstance(command, SetSlot)] == [("size", size)]


def test_a_word_ending_in_ing_that_is_no_doing_is_kept(generator):
    # "something cheaper" is what is asked for (the cheaper ones, sorted by price), not why
    [search] = read(generator, "hmm none of those, something cheaper")
    assert search.kind == "search" and search.sort == "price_asc"
    # "checking with my partner" is a pause, never a reason dropped to leave "looks right" (nothing ordered)
    assert all(
        command.kind not in ("confirm", "set_slot")
        for command in read(generator, "looks right, one sec, checking with my partner")
    )


def test_the_running_shoe_one_said_first_is_the_promotion_for_running_shoes(generator):
    commands = read(generator, "the running shoe one on cloud joggers 42 then")
    assert UseMyPromotion(about="running shoe") in commands
    assert lines(commands) == [("prod_cloud_jogger", None, "42", None)]


def test_a_thing_added_so_the_code_counts_tries_the_code_again(generator):
    commands = read(
        generator,
        "add a pair of running socks then so it counts",
        _cart("var_tech_tee_blue_m", "prod_tech_tee", "blue", "M"),
    )
    assert UseMyPromotion() in commands
    assert [item.product_ids for command in commands if isinstance(command, AddItems) for item in command.items] == [
        ("prod_run_socks",)
    ]


def test_so_it_counts_about_a_yes_is_no_code(generator):
    tee = _cart("var_tech_tee_blue_m", "prod_tech_tee", "blue", "M")
    commands = read(generator, "i said yes before the change so it counts", tee)
    assert UseMyPromotion() not in commands


@pytest.mark.parametrize("said", ["has my order from new year's day shipped yet?", "did my order from monday arrive?"])
def test_an_order_named_by_its_day_is_a_status_question(generator, said):
    assert [command.kind for command in read(generator, said)] == ["order_status"]


@pytest.mark.parametrize(
    "said", ["nice one, cheers for the help", "ah, no worries, without it", "fair enough, without it"]
)
def test_thanks_and_going_without_the_code_are_politeness(generator, said):
    assert [command.kind for command in read(generator, said)] == ["thanks"]


@pytest.mark.parametrize("said", ["never mind", "without the code then"])
def test_never_mind_and_without_the_code_keep_their_meaning(generator, said):
    # with a cart going (not at its preview): never mind drops it, without the code takes the code off
    tee = DialogueContext(cart=_cart("var_tech_tee_blue_m", "prod_tech_tee", "blue", "M").cart)
    assert [command.kind for command in read(generator, said, tee)] != ["thanks"]


@pytest.mark.parametrize(
    "said",
    ["can you make me a couch to 5k plan?", "could you write me a marathon training plan", "give me a workout routine"],
)
def test_a_training_plan_is_out_of_scope(generator, said):
    # never a search for "couch plan" (it answered that the shop has no such thing)
    assert [command.kind for command in read(generator, said)] == ["out_of_scope"]


def test_a_person_asked_for_last_about_swapping_a_present_is_a_handover(generator):
    said = "my uncle got me a rain jacket from you and it's too big, can i talk to someone about exchanging it?"
    assert [command.kind for command in read(generator, said)] == ["human"]


KETTLEBELL = [("prod_kettlebell", None, None, None)]
PURPLE_MAT = [("prod_yoga_mat", "purple", None, None)]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("new year's resolution is to use the garage gym more, a kettlebell please", KETTLEBELL),
        ("need a purple yoga mat, my first session is on saturday - the purple one", PURPLE_MAT),
    ],
)
def test_the_resolution_and_when_it_starts_are_no_things_asked_for(generator, said, expected):
    # the home gym was the Gym Duffel, "my first class is tomorrow - blue one" a search with the colour
    assert lines(read(generator, said)) == expected


@pytest.mark.parametrize(
    "said", ["the blue runners again, my old ones have holes in", "same tee as before in M, he's starting too"]
)
def test_what_the_old_ones_are_like_or_who_else_starts_is_no_second_thing(generator, said):
    [command] = read(generator, said)
    assert isinstance(command, AddItems) and len(command.items) == 1, command


def test_nice_then_one_please_about_the_thing_shown_is_still_one_of_it(generator):
    # "nice, one pls" after the day pack was answered about: one of it, never thanks ("nice one" is thanks only beside
    # thanks)
    from ordering.agent.commands import Option

    shown = DialogueContext(last_shown=(Option(value="prod_day_pack", label="20L Day Pack"),))
    assert lines(read(generator, "nice, one pls", shown)) == [("prod_day_pack", None, None, 1)]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (
            "aiming for 10k steps a day this year, black fitness band please",
            [("prod_fitness_band", "black", None, None)],
        ),
        (
            "physio says go easy on my knees, grey cloud joggers in 42 please",
            [("prod_cloud_jogger", "grey", "42", None)],
        ),
    ],
)
def test_a_first_clause_that_names_and_asks_nothing_is_the_story(generator, said, expected):
    # it was a search for the story's words with the product
    assert lines(read(generator, said)) == expected


def test_a_first_clause_with_a_saved_thing_or_a_code_is_kept(generator):
    saved = read(generator, "the three things i saved, not the bottle")
    assert any(item.saved for command in saved if isinstance(command, AddItems) for item in command.items), saved
    coded = read(generator, "half marathon kit with my ALICE10 - grey cloud jogger 40")
    assert any(command.kind in ("apply_code", "use_my_promotion") for command in coded), coded
