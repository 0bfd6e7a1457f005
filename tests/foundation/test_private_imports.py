"""No module uses another module's underscore names (#18).

A name that starts with one underscore is its module's own business: it may change or go without a
look at anyone else. So an app module neither imports another module's `_name` (`from x import _name`,
`from x import _name as y`, `import x._private`) nor reads one through a module it imported
(`import x` … `x._name`). What another module needs gets a public name, in the module where it belongs.
Modules of one package may share a private module of that package (`pkg._impl` for `pkg.a` and `pkg.b`).

Read from the source (tests/support/imports.py): top level, inside functions and under `if TYPE_CHECKING:`
alike. Tests are not checked: a test may reach into a module to stage a race or a failure.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.imports import PROJECT_DIR, imports_of, module_name

APPS = sorted(path.parent.name for path in PROJECT_DIR.glob("*/apps.py"))

# "path:imported name": why it is still here. Only ever remove entries; the test fails when one is gone.
KNOWN_PRIVATE_IMPORTS: dict[str, str] = {}


def _is_private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _owner(dotted: str) -> str | None:
    """The module that owns the first private part of `dotted` (None when nothing in it is private)."""
    parts = dotted.split(".")
    for index, part in enumerate(parts[1:], start=1):
        if _is_private(part):
            return ".".join(parts[:index])
    return None


def _is_module(dotted: str, root: Path) -> bool:
    path = root.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _module_aliases(tree: ast.AST, *, package: list[str], apps: set[str], root: Path) -> dict[str, str]:
    """Local name → one of our modules, for every `import x[.y] [as z]` and `from x import module`."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in apps:
                    aliases[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                kept = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                base = ".".join([*kept, *([node.module] if node.module else [])])
            for alias in node.names:
                dotted = f"{base}.{alias.name}"
                if dotted.split(".")[0] in apps and _is_module(dotted, root):
                    aliases[alias.asname or alias.name] = dotted
    return aliases


def private_uses(path: Path, *, apps: list[str], root: Path = PROJECT_DIR) -> set[str]:
    """`"<file>:<module>.<_name>"` for each underscore name of another module that the file imports or reads."""
    me = module_name(path, root=root)
    relative = path.relative_to(root).as_posix()
    found: set[str] = set()

    def foreign(dotted: str) -> bool:
        owner = _owner(dotted)
        return owner is not None and dotted.split(".")[0] in apps and owner != me and not me.startswith(f"{owner}.")

    for imported in imports_of(path, root=root):
        if foreign(imported.module):
            found.add(f"{relative}:{imported.module}")
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = me.split(".") if path.name == "__init__.py" else me.split(".")[:-1]
    aliases = _module_aliases(tree, package=package, apps=set(apps), root=root)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            dotted = f"{aliases[node.value.id]}.{node.attr}"
            if _is_private(node.attr) and foreign(dotted):
                found.add(f"{relative}:{dotted}")
    return found


def all_private_uses(apps: list[str], root: Path = PROJECT_DIR) -> set[str]:
    return {
        use
        for app in apps
        for path in sorted((root / app).rglob("*.py"))
        for use in private_uses(path, apps=apps, root=root)
    }


def test_no_module_uses_another_modules_underscore_names():
    found = all_private_uses(APPS)

    new = sorted(found - set(KNOWN_PRIVATE_IMPORTS))
    assert new == [], (
        f"These modules use another module's underscore names: {new}\n"
        "Give the name a public home (drop the underscore, or move it where both can import it)."
    )
    gone = sorted(set(KNOWN_PRIVATE_IMPORTS) - found)
    assert gone == [], f"Fixed: remove {gone} from KNOWN_PRIVATE_IMPORTS"


def test_the_check_sees_every_form_and_leaves_a_modules_own_names_alone(tmp_path):
    for package in ("shop", "shop/parts", "staff"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "shop" / "services.py").write_text("def _lock(): ...\ndef _count(): ...\ndef lock(): _lock()\n")
    (tmp_path / "shop" / "parts" / "_impl.py").write_text("def helper(): ...\n")
    (tmp_path / "shop" / "parts" / "a.py").write_text("from shop.parts._impl import helper\n")
    (tmp_path / "staff" / "views.py").write_text(
        "import shop.services\n"
        "from shop import services as shop_services\n"
        "from shop.services import lock, __doc__\n"
        "from shop.parts import _impl\n"
        "def view():\n"
        "    from shop.services import _lock as lock_it\n"
        "    shop_services._count()\n"
        "    shop.services.lock()\n"
        "    return lock_it, lock, __doc__, _impl\n"
    )

    found = all_private_uses(["shop", "staff"], root=tmp_path)

    assert found == {
        "staff/views.py:shop.parts._impl",  # another package's private module
        "staff/views.py:shop.services._lock",  # imported under another name, inside a function
        "staff/views.py:shop.services._count",  # read through the imported module
    }
    assert private_uses(tmp_path / "shop" / "parts" / "a.py", apps=["shop", "staff"], root=tmp_path) == set()
