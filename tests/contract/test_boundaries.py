"""The merchant boundary, checked in the source: our side never imports the sandbox merchant.

The sandbox is a shop like any other, reached over HTTP through the merchant contract
(catalog_adapters/contract.py). Only config/ (settings, URLs, the sandbox's own server) and the
sandbox's test support may name it. This reads every module's imports (top level or inside a function,
`import x` or `from x import y`, relative ones resolved) without importing anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUR_PACKAGES = ("ordering", "consent", "escalations", "audit", "catalog_adapters")
FORBIDDEN = "sandbox_merchant"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
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


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file; `from . import x` resolved against the file's package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
        elif _is_dynamic_import(node):
            # importlib.import_module("sandbox_merchant...") is an import too.
            found.append((node.lineno, node.args[0].value))
    return found


def _names_sandbox(module: str) -> bool:
    return module == FORBIDDEN or module.startswith(f"{FORBIDDEN}.")


def _our_files() -> list[Path]:
    files = []
    for package in OUR_PACKAGES:
        files.extend(sorted((ROOT / package).rglob("*.py")))
    return files


def test_the_check_sees_our_packages():
    files = _our_files()
    assert len(files) > 50
    for package in OUR_PACKAGES:
        assert any(path.relative_to(ROOT).parts[0] == package for path in files), package


@pytest.mark.parametrize("package", OUR_PACKAGES)
def test_no_module_of_ours_imports_the_sandbox_merchant(package):
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, module in imported_modules(path)
        if _names_sandbox(module)
    ]
    assert offenders == [], "Reach the sandbox over HTTP (the merchant contract or its control API):\n" + "\n".join(
        offenders
    )


def test_the_check_catches_every_import_form(tmp_path, monkeypatch):
    package = tmp_path / "ordering"
    package.mkdir()
    (package / "__init__.py").write_text("")
    sample = package / "sample.py"
    sample.write_text(
        "import sandbox_merchant\n"
        "import sandbox_merchant.models as m\n"
        "from sandbox_merchant.demo import PRODUCTS\n"
        "from sandbox_merchant import services\n"
        "def late():\n"
        "    from sandbox_merchant.selectors import variant_available\n"
        "    importlib.import_module('sandbox_merchant.control')\n"
        "import sandbox_merchantish\n"
        "from catalog_adapters.contract import Money\n"
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    hits = sorted({line for line, module in imported_modules(sample) if _names_sandbox(module)})
    assert hits == [1, 2, 3, 4, 6, 7]
