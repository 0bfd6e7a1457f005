"""The reader is one long module of patterns and rules; a second definition under a name already used silently
replaces the first (Python keeps the later one, and linters do not flag methods), which broke a rule once
("no not this colour, the other" stopped being read when a new `_other_colour` and `OTHER_COLOUR` were added)."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

AGENT = Path(__file__).resolve().parents[2] / "ordering" / "agent"
MODULES = sorted([*(AGENT / "understand").glob("*.py"), AGENT / "policy.py", AGENT / "commands.py"])


def _defined_twice(tree: ast.Module) -> list[str]:
    names: Counter[str] = Counter()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names[node.name] += 1
        if isinstance(node, ast.ClassDef):
            methods = Counter(item.name for item in node.body if isinstance(item, ast.FunctionDef))
            names.update(f"{node.name}.{name}" for name, count in methods.items() if count > 1 for _ in range(2))
    return sorted(name for name, count in names.items() if count > 1)


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_no_pattern_function_or_method_of_the_reader_is_defined_twice(module):
    tree = ast.parse(module.read_text())

    assert _defined_twice(tree) == []


def test_the_check_finds_a_name_defined_twice():
    tree = ast.parse("A = 1\nclass R:\n    def f(self): ...\n    def f(self): ...\nA = 2\n")

    assert _defined_twice(tree) == ["A", "R.f"]
