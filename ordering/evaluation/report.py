"""The evaluation's numbers: per-category task success, wrong orders, unconfirmed charges, clarification
rate and LLM calls per turn; printed as a table (`make eval`, the CI test) and written as JSON.

The gate (`gate_problems`): any wrong order or unconfirmed charge fails, whatever the generator; task
success below the minimum (95% by default) fails the offline generator.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ordering.evaluation.tasks import TaskOutcome

DEFAULT_MIN_SUCCESS = 0.95


@dataclass
class CategoryRow:
    category: str
    tasks: int = 0
    succeeded: int = 0
    wrong_orders: int = 0
    unconfirmed_charges: int = 0
    with_questions: int = 0
    turns: int = 0
    llm_calls: int = 0

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.tasks if self.tasks else 0.0

    def add(self, outcome: TaskOutcome) -> None:
        self.tasks += 1
        self.succeeded += int(outcome.success)
        self.wrong_orders += int(outcome.wrong_order)
        self.unconfirmed_charges += int(outcome.unconfirmed_charge)
        self.with_questions += int(outcome.clarifications > 0)
        self.turns += outcome.turns
        self.llm_calls += outcome.llm_calls


@dataclass
class Summary:
    generator: str
    rows: list[CategoryRow]
    total: CategoryRow
    questions: int
    seconds: float
    failed: list[TaskOutcome] = field(default_factory=list)

    @property
    def clarification_rate(self) -> float:
        """Share of tasks in which the assistant asked at least one question."""
        return self.total.with_questions / self.total.tasks if self.total.tasks else 0.0

    @property
    def llm_calls_per_turn(self) -> float:
        return self.total.llm_calls / self.total.turns if self.total.turns else 0.0

    def as_dict(self) -> dict[str, Any]:
        def row(r: CategoryRow) -> dict[str, Any]:
            return {
                "tasks": r.tasks,
                "succeeded": r.succeeded,
                "success_rate": round(r.success_rate, 4),
                "wrong_orders": r.wrong_orders,
                "unconfirmed_charges": r.unconfirmed_charges,
                "tasks_with_questions": r.with_questions,
                "turns": r.turns,
                "llm_calls": r.llm_calls,
            }

        return {
            "generator": self.generator,
            "total": row(self.total),
            "by_category": {r.category: row(r) for r in self.rows},
            "clarification_rate": round(self.clarification_rate, 4),
            "questions_asked": self.questions,
            "llm_calls_per_turn": round(self.llm_calls_per_turn, 3),
            "seconds": round(self.seconds, 1),
        }


def summarize(outcomes: list[TaskOutcome], *, generator: str = "offline") -> Summary:
    rows: dict[str, CategoryRow] = defaultdict(lambda: CategoryRow(category=""))
    total = CategoryRow(category="all")
    for outcome in outcomes:
        row = rows[outcome.category]
        row.category = outcome.category
        row.add(outcome)
        total.add(outcome)
    return Summary(
        generator=generator,
        rows=sorted(rows.values(), key=lambda r: r.category),
        total=total,
        questions=sum(outcome.clarifications for outcome in outcomes),
        seconds=sum(outcome.seconds for outcome in outcomes),
        failed=[outcome for outcome in outcomes if not outcome.success],
    )


def gate_problems(summary: Summary, *, min_success: float | None) -> list[str]:
    """Why this run fails the gate (empty: it passes). `min_success=None` checks only the safety counts."""
    problems = []
    if summary.total.wrong_orders:
        problems.append(f"{summary.total.wrong_orders} task(s) ended with a WRONG ORDER at the shop")
    if summary.total.unconfirmed_charges:
        problems.append(f"{summary.total.unconfirmed_charges} task(s) charged the customer without a confirmation")
    if min_success is not None and summary.total.success_rate < min_success:
        problems.append(f"task success {summary.total.success_rate:.1%} is below the minimum {min_success:.0%}")
    return problems


def _percent(value: float) -> str:
    return f"{value * 100:5.1f}%"


def summary_table(summary: Summary) -> str:
    """The task table as Markdown (it reads the same in a terminal and pastes into the README)."""
    header = "| category | tasks | success | wrong orders | unconfirmed charges | asked a question |"
    lines = [
        f"Multi-turn tasks ({summary.generator} generator): {summary.total.tasks} tasks, {summary.total.turns} turns, "
        f"{summary.seconds:.0f} s",
        "",
        header,
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in [*summary.rows, summary.total]:
        name = f"**{row.category}**" if row is summary.total else row.category
        lines.append(
            f"| {name} | {row.tasks} | {row.succeeded}/{row.tasks} {_percent(row.success_rate)} | {row.wrong_orders} | "
            f"{row.unconfirmed_charges} | {row.with_questions} |"
        )
    lines += [
        "",
        f"- task success: {_percent(summary.total.success_rate).strip()}",
        f"- wrong orders: {summary.total.wrong_orders}",
        f"- unconfirmed charges: {summary.total.unconfirmed_charges}",
        f"- clarification rate: {_percent(summary.clarification_rate).strip()} of tasks had a question "
        f"({summary.questions} questions in {summary.total.turns} turns)",
        f"- LLM calls per turn: {summary.llm_calls_per_turn:.2f}",
    ]
    return "\n".join(lines)


def failures_text(summary: Summary, *, transcripts: bool = True, limit: int = 200) -> str:
    """What went wrong in each failed task, with its transcript, for reading a red run."""
    blocks = []
    for outcome in summary.failed[:limit]:
        flags = (("WRONG ORDER", outcome.wrong_order), ("UNCONFIRMED CHARGE", outcome.unconfirmed_charge))
        marks = [mark for mark, on in flags if on]
        block = [f"✗ {outcome.task_id} ({outcome.category}){' ' + ' '.join(marks) if marks else ''}"]
        block += [f"    - {failure}" for failure in outcome.failures]
        if transcripts:
            block += [f"      {line}" for line in outcome.transcript]
        blocks.append("\n".join(block))
    return "\n".join(blocks)


def messages_table(result: Any) -> str:
    """The single-message table from `ordering.evaluation.messages.evaluate_messages`: its report's own
    `table()` when it has one, else a mapping category → accuracy (or an object with `per_category`)."""
    if callable(getattr(result, "table", None)):
        return "Single messages (expected commands and slots):\n\n" + result.table()
    per_category = getattr(result, "per_category", None)
    if per_category is None and isinstance(result, dict):
        per_category = result.get("per_category", result)
    if not isinstance(per_category, dict):
        return f"Single messages: {result}"
    lines = ["Single messages (expected commands and slots):", "", "| category | accuracy |", "|---|---:|"]
    for category, value in sorted(per_category.items()):
        shown = _percent(value).strip() if isinstance(value, float) else str(value)
        lines.append(f"| {category} | {shown} |")
    overall = getattr(result, "overall", None)
    if overall is None and isinstance(result, dict):
        overall = result.get("overall")
    if isinstance(overall, float):
        lines.append(f"| **all** | {_percent(overall).strip()} |")
    return "\n".join(lines)
