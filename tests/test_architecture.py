"""The arrows ARCHITECTURE.md forbids, held by reading every import in the package.

The map is only worth something while it is true: a forbidden import fails here with the
file, the line and the arrow it draws, so the structure cannot drift one shortcut at a time.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "monitor"

FOUNDATION = {"domain", "errors", "config", "config_check", "masking", "textfiles",
              "safe_yaml", "resources", "logs", "metrics"}
"""Plain values, settings and helpers every part may use; they use no part above them."""

FORBIDDEN: dict[str, set[str]] = {
    "pipeline": {"store", "collectors", "accounts", "guidance", "compliance", "jobs",
                 "slack", "web", "cli", "demo"},
    "collectors": {"store", "pipeline", "accounts", "guidance", "compliance", "jobs",
                   "slack", "web", "cli", "demo"},
    "accounts": {"guidance", "compliance", "jobs", "slack", "web", "cli", "demo"},
    "compliance": {"jobs", "slack", "web", "cli", "demo"},
    "guidance": {"jobs", "slack", "web", "cli", "demo"},
    "jobs": {"slack", "web", "cli", "demo"},
    "slack": {"jobs", "web", "cli", "demo"},
    "web": {"jobs", "slack", "cli", "demo"},
    "demo": {"web", "cli"},
}
"""For each part above the foundation, the parts it must never import."""

STORE_MAY_USE = {"domain", "errors", "config", "masking"}
"""The store is the bottom floor: it knows the plain values it stores and nothing above."""

SQL_LIBRARIES = ("sqlalchemy", "alembic")
"""Only the store speaks SQL; every other part asks the store."""


@dataclass(frozen=True)
class Import:
    """One import statement: where it is and what it names."""

    path: Path
    line: int
    source: str
    target: str


def _part(path: Path, root: Path = PACKAGE) -> str:
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(root: Path = PACKAGE) -> list[Import]:
    found: list[Import] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found.extend(Import(path, node.lineno, _part(path, root), name) for name in names)
    return found


def _where(imp: Import) -> str:
    return f"{imp.path.relative_to(PACKAGE.parent)}:{imp.line}"


def test_the_package_has_the_parts_the_map_names() -> None:
    parts = {_part(p) for p in PACKAGE.rglob("*.py")}
    for named in set(FORBIDDEN) - {"demo"}:
        assert named in parts, f"ARCHITECTURE.md names {named!r}, which the package lacks"


def test_no_forbidden_arrow_between_parts() -> None:
    crossings = []
    for imp in _imports():
        if not imp.target.startswith("monitor."):
            continue
        target = imp.target.split(".")[1]
        banned = FORBIDDEN.get(imp.source, set())
        if target != imp.source and target in banned:
            crossings.append(f"{_where(imp)}: {imp.source} -> {target}")
    assert not crossings, "imports that cross a forbidden arrow:\n" + "\n".join(crossings)


def test_the_store_imports_only_the_foundation_it_stores() -> None:
    upward = [f"{_where(imp)}: store -> {imp.target}" for imp in _imports()
              if imp.source == "store" and imp.target.startswith("monitor.")
              and imp.target.split(".")[1] not in STORE_MAY_USE | {"store"}]
    assert not upward, "the store reaching up:\n" + "\n".join(upward)


def test_foundation_modules_import_no_part_above_them() -> None:
    crossings = []
    for imp in _imports():
        if imp.source in FOUNDATION and imp.target.startswith("monitor."):
            target = imp.target.split(".")[1]
            if target not in FOUNDATION:
                crossings.append(f"{_where(imp)}: {imp.source} -> {target}")
    assert not crossings, "foundation modules reaching up:\n" + "\n".join(crossings)


def test_only_the_store_imports_sql_libraries() -> None:
    outside = [f"{_where(imp)}: {imp.target}" for imp in _imports()
               if imp.source != "store" and imp.target.split(".")[0] in SQL_LIBRARIES]
    assert not outside, "SQL outside monitor/store:\n" + "\n".join(outside)


def test_the_check_sees_an_import_hidden_inside_a_function(tmp_path: Path) -> None:
    """A nested import is still an arrow; the walk must find it, or the tests above are blind."""
    pipeline = tmp_path / "monitor" / "pipeline"
    pipeline.mkdir(parents=True)
    (pipeline / "sneaky.py").write_text(
        "def f():\n    from monitor.store.schema import PostRow\n    return PostRow\n")
    found = _imports(tmp_path / "monitor")
    assert [(i.source, i.target, i.line) for i in found] == [
        ("pipeline", "monitor.store.schema", 2)]
