"""The merchant boundary, checked in the source: our side never imports the sandbox merchant.

The sandbox is a shop like any other, reached over HTTP through the merchant contract
(catalog_adapters/contract.py). Only config/ (settings, URLs, the sandbox's own server) and the
sandbox's test support may name it. This reads every module's imports (top level or inside a function,
`import x` or `from x import y`, relative ones resolved) without importing anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.imports import PROJECT_DIR, imports_of

ROOT = PROJECT_DIR
OUR_PACKAGES = ("ordering", "consent", "escalations", "audit", "catalog_adapters")
FORBIDDEN = "sandbox_merchant"


def imported_modules(path: Path, *, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, module) for every import in the file (tests/support/imports.py reads them)."""
    return [(found.line, found.module) for found in imports_of(path, root=root)]


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


def test_the_check_catches_every_import_form(tmp_path):
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
    hits = sorted({line for line, module in imported_modules(sample, root=tmp_path) if _names_sandbox(module)})
    assert hits == [1, 2, 3, 4, 6, 7]
