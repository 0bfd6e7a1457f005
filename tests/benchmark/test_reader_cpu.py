"""The reader's CPU harness (ordering/benchmark/reader_cpu.py) reads the whole shipped corpus and prints its figure."""

from __future__ import annotations

import re

from ordering.benchmark.reader_cpu import main
from ordering.evaluation.messages import load_messages


def test_it_reads_every_corpus_message_and_prints_the_cpu_per_message():
    printed = main(repeat=1)

    match = re.fullmatch(r"(\d+\.\d\d) ms of CPU per message \((\d+) messages, (\d+) patterns compiled\)", printed)
    assert match, printed
    assert float(match.group(1)) > 0
    assert int(match.group(2)) == len(load_messages())
    assert int(match.group(3)) > 0
