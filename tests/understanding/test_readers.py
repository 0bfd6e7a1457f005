"""Numbers, sizes, relative dates and the catalog lexicon: the pure readers under the offline generator."""

from __future__ import annotations

import pytest

from ordering.agent.understand.dates import since_days
from ordering.agent.understand.numbers import parse_quantity
from ordering.agent.understand.sizes import (
    ambiguous_shoe_options,
    convert_shoe_size,
    find_clothing_size,
    find_shoe_size,
)
from ordering.agent.understand.text import normalize
from ordering.evaluation.messages import demo_lexicon


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("2", (2, 1)),
        ("-2", (-2, 1)),
        ("10000", (10000, 1)),
        ("0", (0, 1)),
        ("x3", (3, 1)),
        ("3x", (3, 1)),
        ("two", (2, 1)),
        ("twenty five", (25, 2)),
        ("ten thousand", (10000, 2)),
        ("a couple of", (2, 3)),
        ("a dozen", (12, 2)),
        ("half a dozen", (6, 3)),
        ("a hundred", (100, 2)),
        ("blue", (None, 0)),
    ],
)
def test_quantities_are_read_as_said(words, expected):
    assert parse_quantity(words.split()) == expected


@pytest.mark.parametrize(
    ("text", "size", "options"),
    [
        ("us 9", "42", ()),
        ("uk 8", "42", ()),
        ("men's 10", "43", ()),
        ("size 12 us", "45", ()),
        ("eu 41", "41", ()),
        ("womens 9", "40", ()),
        ("size 42", "42", ()),
        ("in 44", "44", ()),
        # A bare small size could be US or UK: not guessed, both offered.
        ("size 9", None, ("42", "43")),
        ("us 9.5", None, ("42", "43")),
    ],
)
def test_shoe_sizes_convert_to_the_shops_eu_sizes(text, size, options):
    reading = find_shoe_size(text, ("40", "41", "42", "43", "44", "45"))
    assert reading is not None
    assert (reading.size, reading.options) == (size, options)


def test_conversion_table_and_ambiguity():
    assert convert_shoe_size(7, "us") == ["40"]
    assert convert_shoe_size(11, "uk") == ["45"]
    assert ambiguous_shoe_options(8, ("40", "41", "42", "43", "44", "45")) == ("41", "42")
    # Not sold: the candidates are still named, so the policy can say the shop does not have them.
    assert ambiguous_shoe_options(13, ("40", "41", "42")) == ("46", "47")


@pytest.mark.parametrize(
    ("text", "letters_alone", "size"),
    [
        ("in medium", False, "M"),
        ("extra large", False, "XL"),
        ("x-large", False, "XL"),
        ("size s", False, "S"),
        ("a small one", False, "S"),
        ("m", True, "M"),
        ("i'm fine", True, None),  # the "m" of "i'm" is not a size
        ("get me one", False, None),
    ],
)
def test_clothing_sizes(text, letters_alone, size):
    reading = find_clothing_size(normalize(text), letters_alone=letters_alone)
    assert (reading.size if reading else None) == size


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("the one i liked yesterday", 2),
        ("last week", 14),
        ("a few days ago", 8),
        ("on monday", 8),
        ("last monday", 14),
        ("3 days ago", 4),
        ("two weeks ago", 21),
        ("last month", 62),
        ("recently", 31),
        ("blue runners", None),
    ],
)
def test_relative_dates_become_a_look_back_window(text, days):
    assert since_days(text)[0] == days


@pytest.mark.parametrize(
    ("words", "ids"),
    [
        ("blue runners", {"prod_blue_runner"}),
        ("blue runer", {"prod_blue_runner"}),  # typo
        ("gps wach", {"prod_gps_watch"}),  # typo
        ("trial blazer", {"prod_trail_blazer"}),  # transposed letters
        ("running shoes", {"prod_blue_runner", "prod_trail_blazer", "prod_tempo_racer", "prod_cloud_jogger"}),
        # British "trainers" are any sports shoes ("the Blue Runner trainers")
        (
            "trainers",
            {
                "prod_court_classic",
                "prod_canvas_low",
                "prod_street_high",
                "prod_blue_runner",
                "prod_trail_blazer",
                "prod_tempo_racer",
                "prod_cloud_jogger",
            },
        ),
        ("t-shirts", {"prod_tech_tee", "prod_cotton_tee", "prod_graphic_tee"}),
        ("sweatshirt", {"prod_zip_hoodie", "prod_pullover_hoodie"}),
        ("backpack", {"prod_day_pack"}),
        ("leggings", {"prod_run_tights"}),
        ("hat", {"prod_run_cap", "prod_beanie"}),
        ("running watch", {"prod_gps_watch"}),
        ("surfboard", set()),
    ],
)
def test_lexicon_names_the_products_words_mean(words, ids):
    assert set(demo_lexicon().find(words).product_ids) == ids


def test_category_matches_keep_the_colour_said_and_put_the_named_one_first():
    lexicon = demo_lexicon()
    assert lexicon.find("blue running shoes", colour="blue").product_ids == ("prod_blue_runner", "prod_cloud_jogger")
    assert lexicon.find("pink running shoes", colour="pink").product_ids == ()


def test_lexicon_is_built_from_names_not_descriptions():
    # "Lightweight blue running shoes with a breathable mesh upper": description words name nothing, and never become
    # words a typo is corrected into. The vocabulary has the words of our own list of what shoppers say things do
    # (FEATURE_WORDS, e.g. "breathable"), never the merchant's text.
    assert demo_lexicon().find("breathable mesh upper").product_ids == ()
    assert "mesh" not in demo_lexicon().vocabulary
    assert "upper" not in demo_lexicon().vocabulary


def test_a_description_tells_apart_the_products_of_a_kind_but_names_none_alone():
    lexicon = demo_lexicon()
    # what the shop says of each: "Elastic-sided leather Chelsea boots", "Merino wool hiking socks"
    assert lexicon.find("boots with stretchy sides").product_ids == ("prod_chelsea_boot",)
    assert lexicon.find("socks for hiking").product_ids == ("prod_wool_socks",)
    # "earphones for the gym": the gym only says what they are for (it was the Gym Duffel beside the earbuds)
    assert lexicon.resolve(lexicon.words("earphones"), describing=lexicon.words("the gym")).product_ids == (
        "prod_earbuds",
    )
    # described without a name: a feature that only one product has, or two of one product's
    assert lexicon.find("something that counts my steps").product_ids == ("prod_fitness_band",)
    assert lexicon.find("something that counts my steps").described
    # one weak word is not enough ("long" alone is no Cloud Jogger), and a description word alone names nothing
    assert lexicon.find("something long").product_ids == ()
    assert lexicon.find("padded").product_ids == ()
    # the colour said comes first, then what it is for among those: the only khaki shorts are the cargo ones
    assert lexicon.resolve(
        lexicon.words("khaki shorts"), colour="khaki", describing=lexicon.words("the big side pockets")
    ).product_ids == ("prod_cargo_shorts",)
    assert lexicon.resolve(lexicon.words("shorts"), describing=lexicon.words("a zip pocket")).product_ids == (
        "prod_run_shorts",
    )


def test_typo_correction_leaves_ordinary_words_alone():
    lexicon = demo_lexicon()
    for word in ("show", "cheap", "like", "card", "best", "book", "home", "work"):
        assert lexicon.correct(word) == word
