"""The held-out set (ordering/evaluation/heldout/): well formed, naming what the shop sells, and readable by
`eval_conversations --messages` (the single-message table of any file, with the messages read wrong)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ordering.evaluation.messages import load_messages
from ordering.evaluation.tasks import tasks_load
from ordering.management.commands.eval_conversations import _single_messages

HELDOUT = Path(__file__).resolve().parents[2] / "ordering" / "evaluation" / "heldout"


def _sets() -> list[tuple[str, str]]:
    """Every held-out set on disk (tasks.yaml, tasks_2.yaml … tasks_N.yaml), each with its messages file."""
    tasks = sorted(HELDOUT.glob("tasks*.yaml"), key=lambda path: int(path.stem.removeprefix("tasks").strip("_") or 1))
    return [(path.name, path.name.replace("tasks", "messages", 1)) for path in tasks]


def test_every_held_out_set_on_disk_is_checked_and_has_its_messages():
    sets = _sets()
    # thirty-eight runs so far (tasks.yaml and tasks_2 … tasks_38), none of them left without its messages
    assert len(sets) >= 38 and sets[0][0] == "tasks.yaml" and sets[-1][0] == f"tasks_{len(sets)}.yaml"
    assert all((HELDOUT / messages).exists() for _tasks, messages in sets)


@pytest.mark.parametrize(("tasks_file", "messages_file"), _sets())
def test_the_held_out_sets_load_with_their_tasks_and_messages(tasks_file, messages_file):
    tasks = tasks_load(path=HELDOUT / tasks_file)
    messages = load_messages(HELDOUT / messages_file)

    # a general set has 80+ tasks and 85+ messages; set 20 is a themed one (what is said around and after an order)
    themed = tasks_file == "tasks_20.yaml"
    assert len(tasks) >= (50 if themed else 80) and len(messages) >= (45 if themed else 85)
    assert len({task.id for task in tasks}) == len(tasks)


def test_the_messages_option_scores_the_file_given_and_lists_what_was_read_wrong(tmp_path):
    path = tmp_path / "messages.yaml"
    path.write_text(
        "messages:\n"
        '  - {text: "blue runner 42, no sorry, 41", category: correction,'
        ' expect: [{kind: add_items, items: [{product_ids: [prod_blue_runner], size: "41"}]}]}\n'
        '  - {text: "blue runner 42", category: add_item,'
        ' expect: [{kind: add_items, items: [{product_ids: [prod_blue_runner], size: "43"}]}]}\n'
    )

    table = _single_messages(str(path))

    assert table is not None
    assert [line.split()[:3] for line in table.splitlines() if line.startswith("all ")] == [["all", "1", "2"]]
    assert "Read wrong:\n- 'blue runner 42' (add_item)" in table
    assert "no sorry" not in table.split("Read wrong:")[1]
