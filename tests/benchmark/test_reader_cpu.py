"""The reader's CPU harness (ordering/benchmark/reader_cpu.py) reads the shipped corpus and prints its figure (here its
first 60 messages: the whole corpus is the harness's own run, not a test's)."""

from __future__ import annotations

import re

from ordering.benchmark.reader_cpu import main
from ordering.evaluation.messages import load_messages


def test_it_reads_the_corpus_messages_and_prints_the_cpu_per_message():
    printed = main(repeat=1, limit=60)

    match = re.fullmatch(r"(\d+\.\d\d) ms of CPU per message \((\d+) messages, (\d+) patterns compiled\)", printed)
    assert match, printed
    assert float(match.group(1)) > 0
    assert int(match.group(2)) == min(60, len(load_messages()))
    assert int(match.group(3)) > 0
