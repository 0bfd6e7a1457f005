"""'The cheaper one': the policy compares the shop's prices of the options offered (ordering/agent/policy.py,
`Policy._by_price`); the reader only says which end. End to end: corpus tasks H14 (tests/evaluation)."""

from __future__ import annotations

from ordering.agent.policy import Policy


class _Turn:
    def __init__(self) -> None:
        self.decisions: list[tuple] = []

    def record_decision(self, *args, **kwargs) -> None:
        self.decisions.append((args, kwargs))


OPTIONS = [
    {"value": "prod_pullover_hoodie", "label": "Pullover Hoodie", "price": 5500},
    {"value": "prod_zip_hoodie", "label": "Zip Hoodie", "price": 4900},
    {"value": "prod_rain_jacket", "label": "Packable Rain Jacket", "price": 8900},
]


def test_the_lowest_and_the_highest_price_among_the_options_and_the_choice_is_recorded():
    turn = _Turn()
    assert Policy()._by_price(turn, OPTIONS, "lowest") == "prod_zip_hoodie"
    assert Policy()._by_price(turn, OPTIONS, "highest") == "prod_rain_jacket"
    assert "chosen_by_price" in [args[1] for args, _ in turn.decisions]


def test_a_tie_is_asked_about_never_guessed():
    tied = [{**OPTIONS[0], "price": 4900}, OPTIONS[1]]
    assert Policy()._by_price(_Turn(), tied, "lowest") is None
    # The other end is not tied: it can be chosen.
    assert Policy()._by_price(_Turn(), [*tied, OPTIONS[2]], "highest") == "prod_rain_jacket"


def test_a_price_not_kept_with_the_options_is_read_from_the_shop_and_an_unknown_one_chooses_nothing():
    policy = Policy()
    fetched: list[str] = []

    def product(turn, product_id):
        fetched.append(product_id)
        return {"price": 1500} if product_id == "prod_run_socks" else None

    policy._product = product  # the shop's answer for one product; none for the other
    unpriced = [{"value": "prod_run_socks", "label": "Running Socks 3-pack"}, OPTIONS[1]]
    assert policy._by_price(_Turn(), unpriced, "lowest") == "prod_run_socks"
    assert fetched == ["prod_run_socks"]
    unknown = [{"value": "prod_mystery", "label": "Mystery"}, OPTIONS[1]]
    assert policy._by_price(_Turn(), unknown, "lowest") is None


def test_words_the_reader_did_not_take_as_an_answer_choose_only_when_they_name_one_option():
    # The policy's fallback (`_option_named`) read only words of four letters or more: after "red. no white. hmm,
    # red or white" (the reader: undecided) it chose white, the only long one, and the order was placed in white.
    from ordering.agent.policy import _option_named

    colours = [{"value": "red", "label": "red"}, {"value": "white", "label": "white"}]
    assert _option_named("red. no white. hmm, red or white", colours) is None
    assert _option_named("the whites pls", colours) == "white"
    assert _option_named("red!", colours) == "red"
