"""Sizes listed to a customer (a product answer, the preview's size choice, a size question) in the order people read
them."""

from __future__ import annotations

from ordering.agent.tools.base import sizes_in_order


def test_letter_sizes_run_from_small_to_large():
    assert sizes_in_order(["XL", "L", "S", "M", "XXL", "XS"]) == ["XS", "S", "M", "L", "XL", "XXL"]


def test_shoe_sizes_are_numbers_and_halves_follow_their_size():
    assert sizes_in_order(["44", "40.5", "9", "40", "41"]) == ["9", "40", "40.5", "41", "44"]


def test_a_size_that_is_neither_comes_last_and_repeats_are_dropped():
    assert sizes_in_order(["One size", "M", "M", "S"]) == ["S", "M", "One size"]
