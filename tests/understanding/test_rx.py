"""The reader's compile cache (ordering/agent/understand/rx.py): every inline pattern is compiled once per process.

`re`'s own cache holds 512 patterns and drops the oldest first; the reader has more than that, read in the same order
for every message, so each message compiled most of them again. These tests fail if the reader goes back to `re`'s
cache for its inline patterns, or outgrows its own."""

from __future__ import annotations

import re

from ordering.agent.understand import rx
from ordering.evaluation.messages import load_messages


def test_reading_the_corpus_again_compiles_nothing(generator):
    cases = load_messages()
    for case in cases:
        generator.generate(text=case.text, context=case.context)
    before = rx.compile.cache_info()
    # why the cache is the reader's own: the corpus alone reads more distinct patterns than `re` keeps (512 in
    # CPython 3.11's re._MAXCACHE), and leaves room in this one
    assert 512 < before.currsize < rx.CACHE_SIZE // 2

    again = cases[::3]  # a third of them again is as good a check, at a third of the time
    for case in again:
        generator.generate(text=case.text, context=case.context)

    after = rx.compile.cache_info()
    assert after.misses == before.misses  # every pattern of the second pass came from the cache
    assert after.hits > before.hits + len(again)  # and the reader does go through it


def test_the_functions_read_as_re_does():
    text = "Blue Runners 42, blue runners 43"
    assert rx.sub(r"blue", "red", text, flags=re.I) == re.sub(r"blue", "red", text, flags=re.I)
    assert rx.sub(r"\d+", lambda m: str(int(m.group(0)) + 1), text, count=1) == "Blue Runners 43, blue runners 43"
    assert rx.search(r"(\d+)", text).group(1) == "42"
    assert rx.match(r"blue", text) is None and rx.match(r"blue", text, re.I) is not None
    assert rx.fullmatch(r"[a-z ]+", "blue runners") is not None
    assert rx.split(r",\s*", text) == ["Blue Runners 42", "blue runners 43"]
    assert rx.findall(r"\d+", text) == ["42", "43"]
    assert [m.group(0) for m in rx.finditer(r"\d+", text)] == ["42", "43"]
    assert rx.subn(r"\d", "#", "a1b2") == ("a#b#", 2)
