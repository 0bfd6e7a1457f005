"""The apps form a tree: no import cycle between them (#18).

Every module of every app (a top-level package with an `apps.py`, `config` included) is read from its
source (tests/support/imports.py: top level, inside functions and under `if TYPE_CHECKING:` alike) and
each import of another app draws an edge between the two apps. An import inside a function is still a
dependency: it only moves the cycle from start-up to the first call.

The last cycles (ordering <-> escalations, consent <-> ordering, config <-> audit/ordering/escalations)
were broken in #18: a lower app lets a higher one react through a hook, and apps plug into the frame from
their AppConfig.ready. A new cycle fails here, and there is no list of allowed ones.
"""

from __future__ import annotations

import re
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import pytest

from tests.support.imports import PROJECT_DIR, imports_of

APPS = sorted(path.parent.name for path in PROJECT_DIR.glob("*/apps.py"))

Edges = dict[tuple[str, str], set[str]]  # (importer, imported) -> "path:line" of each import


def app_edges(apps: list[str], root: Path = PROJECT_DIR) -> Edges:
    edges: Edges = defaultdict(set)
    for app in apps:
        for path in sorted((root / app).rglob("*.py")):
            for found in imports_of(path, root=root):
                target = found.module.split(".")[0]
                if target in apps and target != app:
                    edges[(app, target)].add(f"{path.relative_to(root)}:{found.line}")
    return edges


def find_cycle(edges: set[tuple[str, str]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None when it has none."""
    successors: dict[str, list[str]] = defaultdict(list)
    for importer, imported in sorted(edges):
        successors[importer].append(imported)
    finished: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in finished:
            return None
        for successor in successors[node]:
            cycle = visit(successor, [*path, node])
            if cycle:
                return cycle
        finished.add(node)
        return None

    for start in sorted(successors):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def _where(edges: Edges, cycle: list[str]) -> str:
    return "\n".join(f"  {a} -> {b}: {', '.join(sorted(edges[(a, b)])[:4])}" for a, b in pairwise(cycle))


@pytest.fixture(scope="module")
def edges() -> Edges:
    return app_edges(APPS)


def test_the_graph_sees_every_app_and_their_imports(edges):
    assert {"audit", "catalog_adapters", "config", "consent", "escalations", "ordering"} <= set(APPS)
    # the imports everyone knows are there
    assert ("ordering", "consent") in edges
    assert ("consent", "audit") in edges
    # the top of the tree: escalations uses ordering's public services and selectors
    assert ("escalations", "ordering") in edges


def test_no_import_cycle_between_apps(edges):
    cycle = find_cycle(set(edges))

    assert cycle is None, (
        f"A new import cycle between apps: {' -> '.join(cycle)}\n{_where(edges, cycle)}\n"
        "Reverse the dependency through a hook (consent/hooks.py is the pattern) instead of importing back."
    )


def test_the_architecture_page_draws_the_imports_as_they_are(edges):
    page = (PROJECT_DIR / "docs" / "architecture.md").read_text(encoding="utf-8")
    drawn = {(a, b): arrow for a, arrow, b in re.findall(r"^ {4}(\w+) (-->|-\.->) (\w+)$", page, re.MULTILINE)}

    assert set(drawn) == set(edges), "docs/architecture.md's graph: draw the imports as they are"
    assert [edge for edge, arrow in drawn.items() if arrow == "-.->"] == [], "a dotted arrow was a cycle; none is left"


def test_config_imports_no_app(edges):
    # The frame loads before the apps (settings, URLs, the Celery app): an app plugs itself in from its
    # AppConfig.ready (admin pages, console view contexts, Celery signals, /metrics collectors), so config
    # imports none, neither at the top of a module nor inside a function.
    found = {
        f"{where} -> {imported}"
        for (importer, imported), wheres in edges.items()
        if importer == "config"
        for where in wheres
    }

    assert sorted(found) == [], "config imports an app; register from the app's AppConfig.ready instead"


def test_the_check_sees_every_import_form_and_finds_a_new_cycle(tmp_path):
    for app in ("shop", "staff"):
        (tmp_path / app).mkdir()
        (tmp_path / app / "__init__.py").write_text("")
    (tmp_path / "shop" / "services.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import models\n"
        "if TYPE_CHECKING:\n"
        "    from staff.models import Ticket\n"
        "def escalate():\n"
        "    import staff.services\n"
    )
    (tmp_path / "staff" / "services.py").write_text("import shop.models as m\n")

    found = [(i.line, i.module, i.at_import_time) for i in imports_of(tmp_path / "shop" / "services.py", root=tmp_path)]
    assert (2, "shop", True) in found  # relative import resolved
    assert (4, "staff.models", False) in found  # only for the type checker
    assert (6, "staff.services", False) in found  # inside a function
    edges = app_edges(["shop", "staff"], root=tmp_path)
    assert sorted(edges) == [("shop", "staff"), ("staff", "shop")]
    assert find_cycle(set(edges)) in (["shop", "staff", "shop"], ["staff", "shop", "staff"])
    assert find_cycle({("shop", "staff")}) is None
