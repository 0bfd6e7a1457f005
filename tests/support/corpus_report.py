"""The conversation corpus' table for the whole run (a pytest plugin).

Loaded for the whole suite from `tests/conftest.py` (`pytest_plugins`), so that under pytest-xdist the
controller, which runs no test, has it too. tests/evaluation/test_conversation_tasks.py runs the corpus in
chunks of whole categories, spread over the workers; each chunk records its tasks' outcomes in its report
(`record_property(CORPUS_OUTCOMES, ...)`), and at the end of the run this prints the table of every task that
ran and the gate on the total (`make eval`'s numbers, in the test log).
"""

from __future__ import annotations

from typing import Any

import pytest

CORPUS_OUTCOMES = "conversation_corpus_outcomes"

# What the table counts of each task (ordering.evaluation.tasks.TaskOutcome), as plain values a report carries.
_COUNTED = ("task_id", "category", "success", "wrong_order", "unconfirmed_charge", "clarifications", "turns")
_COUNTED += ("llm_calls", "seconds")


def outcome_record(outcome: Any) -> dict[str, Any]:
    return {name: getattr(outcome, name) for name in _COUNTED}


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any) -> None:
    records: list[dict[str, Any]] = []
    for status in ("passed", "failed"):
        for report in terminalreporter.stats.get(status, []):
            if getattr(report, "when", "") != "call":
                continue
            for name, value in getattr(report, "user_properties", []):
                if name == CORPUS_OUTCOMES:
                    records.extend(value)
    if not records:
        return
    from ordering.evaluation.report import DEFAULT_MIN_SUCCESS, gate_problems, summarize, summary_table
    from ordering.evaluation.tasks import TaskOutcome

    summary = summarize([TaskOutcome(**record) for record in records])
    terminalreporter.write_sep("-", "conversation corpus (every chunk that ran)")
    terminalreporter.write_line(summary_table(summary))
    problems = gate_problems(summary, min_success=DEFAULT_MIN_SUCCESS)
    terminalreporter.write_line("FAIL: " + "; ".join(problems) if problems else "PASS")
