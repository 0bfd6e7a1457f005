"""The table of what is dropped as the customer's story (ordering/agent/understand/story.py).

`drop_story` applies `STORY_RULES` one after the other, each to the text the rules before it left. These tests fail if a
rule's pattern no longer compiles, if the table's order stops mattering where it does, or if the rules drop a request
(or anything of a message with no story in it)."""

from __future__ import annotations

import re

import pytest

from ordering.agent.commands import DialogueContext
from ordering.agent.understand import rx, story
from ordering.agent.understand.generator import _Reader
from ordering.agent.understand.story import STORY_RULES, StoryContext, StoryRule, drop_story


@pytest.fixture(scope="module")
def ctx(generator) -> StoryContext:
    # the reader's own judgements (is a product named, is a part only story) on the demo catalog, with an empty cart
    return _Reader(generator.lexicon, "hi", DialogueContext())._story_context()


def test_every_rule_compiles_or_is_a_step_of_this_module():
    substitutions = [rule for rule in STORY_RULES if isinstance(rule, StoryRule)]
    steps = [rule for rule in STORY_RULES if not isinstance(rule, StoryRule)]
    assert len(substitutions) > 80 and steps
    for rule in substitutions:
        pattern = rx.compile(rule.pattern, rule.flags) if isinstance(rule.pattern, str) else rule.pattern
        assert isinstance(pattern, re.Pattern)
    for step in steps:
        assert callable(step) and step.__module__ == story.__name__
    assert len(set(map(id, STORY_RULES))) == len(STORY_RULES)  # no rule is listed twice


def test_a_rule_reads_what_the_rules_before_it_left(ctx):
    said = "same shoes for my wife, she's a 40"
    rules = [rule for rule in STORY_RULES if isinstance(rule, StoryRule)]
    # "…, she's a 40" becomes "… for my wife in 40" first; only then is the size moved ahead of whom it is for
    in_size = next(index for index, rule in enumerate(rules) if rule.pattern is story.SAME_FOR_PERSON_THEN_SIZE)
    moved = next(
        index
        for index, rule in enumerate(rules)
        if isinstance(rule.pattern, str) and rule.pattern.startswith(r"\bfor\s+(?P<who>me|myself|")
    )
    assert in_size < moved
    assert rules[in_size](said, ctx) == "same shoes for my wife in 40"
    assert rules[moved]("same shoes for my wife in 40", ctx) == "same shoes in 40 for my wife"
    # the other way round the second rule finds no size after whom it is for, and reads nothing
    assert rules[moved](said, ctx) == said
    assert drop_story(said, ctx=ctx) == "same ones in 40 for my wife"


def test_a_guarded_rule_applies_only_when_its_guard_holds(ctx):
    rule = StoryRule(pattern=r"\s*lol\b", replacement="", flags=re.I, when=lambda text, ctx: "please" in text)
    assert rule("one kettlebell lol please", ctx) == "one kettlebell please"
    assert rule("one kettlebell LOL", ctx) == "one kettlebell LOL"


@pytest.mark.parametrize(
    ("said", "left"),
    [
        (
            "doing a summer 10k in july and i burn so easily, my forehead was bright red for a week. white running cap"
            " please",
            "white running cap please",
        ),
        ("new years resolution is to actually use the home gym lol, one kettlebell pls", "one kettlebell pls"),
        ("yellow so she's easy to spot, size M", "yellow, size M"),
        ("just 1, the other two were for mates who've already given up lol", "just 1"),
        ("my trail shoes have finally died, same again please", "trail shoes again please"),
        ("my old ones are falling apart, blue runner 42 please", ", blue runner 42 please"),
    ],
)
def test_the_story_is_dropped_and_the_request_left(ctx, said, left):
    assert drop_story(said, ctx=ctx) == left


@pytest.mark.parametrize("said", ["blue runner 42 please", "2 pairs of merino socks in L", "white running cap"])
def test_a_message_with_no_story_is_left_as_it_is(ctx, said):
    assert drop_story(said, ctx=ctx) == said
