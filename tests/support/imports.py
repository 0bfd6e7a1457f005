"""A module's imports read from its source, without importing anything.

Every form counts: `import x`, `from x import y` (relative ones resolved against the file's package),
`importlib.import_module("x")`, at the top of the module, inside a function or under
`if TYPE_CHECKING:`. Used by the boundary checks (tests/contract/test_boundaries.py,
tests/foundation/test_import_graph.py).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Import:
    line: int
    module: str
    # True when importing the file runs it: neither inside a function nor only for the type checker.
    at_import_time: bool


def module_name(path: Path, *, root: Path = PROJECT_DIR) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_dynamic_import(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def _is_type_checking(test: ast.expr) -> bool:
    """`if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:`."""
    name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
    return name == "TYPE_CHECKING"


class _Reader(ast.NodeVisitor):
    def __init__(self, package: list[str]) -> None:
        self.package = package
        self.deferred = 0  # depth of functions and TYPE_CHECKING blocks around the node
        self.found: list[Import] = []

    def _add(self, line: int, module: str) -> None:
        self.found.append(Import(line=line, module=module, at_import_time=self.deferred == 0))

    def _visit_deferred(self, node: ast.AST) -> None:
        self.deferred += 1
        self.generic_visit(node)
        self.deferred -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _visit_deferred

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self.deferred += 1
        for child in node.body:
            self.visit(child)
        self.deferred -= 1
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node.lineno, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package[: len(self.package) - (node.level - 1)] if node.level > 1 else self.package
            module = ".".join([*base, *([node.module] if node.module else [])])
        else:
            module = node.module or ""
        self._add(node.lineno, module)
        for alias in node.names:
            self._add(node.lineno, f"{module}.{alias.name}")

    def visit_Call(self, node: ast.Call) -> None:
        if _is_dynamic_import(node):
            self._add(node.lineno, ast.literal_eval(node.args[0]))
        self.generic_visit(node)


def imports_of(path: Path, *, root: Path = PROJECT_DIR) -> list[Import]:
    """Every import in the file, in source order; `from . import x` resolved against the file's package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root=root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    reader = _Reader(package)
    reader.visit(tree)
    return reader.found
