"""Imports inside ``if TYPE_CHECKING:`` blocks never run, and mypy is configured with
``ignore_missing_imports``: a relative import there that points at no module (e.g. after a
module moved into a package) would silently turn its names into ``Any``. Every such
import of an sbmlnoise module must resolve to an existing module (or to a name of one)."""

from __future__ import annotations

import ast
from pathlib import Path

import sbmlnoise as sn

PACKAGE = Path(sn.__file__).resolve().parent


def _modules() -> set[str]:
    out = set()
    for p in PACKAGE.rglob("*.py"):
        parts = list(p.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.add(".".join(parts))
    return out


def _type_checking_imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and (
                (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
                or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")):
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom):
                    yield sub


def _target(path: Path, node: ast.ImportFrom) -> str | None:
    if not node.level:
        mod = node.module or ""
        return mod if mod.split(".")[0] == "sbmlnoise" else None
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    base = parts[:-1]  # the package holding this module (or __init__'s own package)
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def test_type_checking_imports_resolve():
    modules = _modules()
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in _type_checking_imports(path):
            target = _target(path, node)
            if target is None:
                continue
            ok = target in modules or all(f"{target}.{a.name}" in modules for a in node.names)
            if not ok:
                bad.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {target}")
    assert not bad, bad


def test_resolver_catches_a_wrong_relative_import(tmp_path):
    node = ast.parse("from .nowhere import X").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _target(PACKAGE / "report.py", node) == "sbmlnoise.nowhere"
    assert "sbmlnoise.nowhere" not in _modules()
    node2 = ast.parse("from ..network import X").body[0]
    assert isinstance(node2, ast.ImportFrom)
    assert _target(PACKAGE / "lna" / "_lna.py", node2) == "sbmlnoise.network"
