"""The offline reader's CPU per message (docs/performance.md, "The offline reader's CPU per message").

No database, no shop, no network: the reader on the demo catalog's lexicon reads every message of the shipped
single-message corpus (ordering/evaluation/corpus/messages.yaml, each in its context) once to warm up, then
`--repeat` times, and prints the best pass's CPU time (`time.process_time()`) per message:

    DJANGO_SETTINGS_MODULE=config.settings.test python -m ordering.benchmark.reader_cpu --repeat 3

The offline reader is the production default (rows 2a, 3 and 6 of `make bench` read with it; row 1 reads with the
LLM). Compare two versions by running them alternately on the same machine.
"""

from __future__ import annotations

import argparse
import time


def main(repeat: int, limit: int | None = None) -> str:
    import django

    django.setup()
    from ordering.agent.understand import OfflineGenerator, rx
    from ordering.evaluation.messages import demo_lexicon, load_messages

    generator = OfflineGenerator(demo_lexicon())
    cases = load_messages()[:limit]
    for case in cases:
        generator.generate(text=case.text, context=case.context)
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for case in cases:
            generator.generate(text=case.text, context=case.context)
        best = min(best, time.process_time() - started)
    patterns = rx.compile.cache_info().currsize
    return f"{best / len(cases) * 1000:.2f} ms of CPU per message ({len(cases)} messages, {patterns} patterns compiled)"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="only the first N messages")
    arguments = parser.parse_args()
    print(main(arguments.repeat, arguments.limit))
