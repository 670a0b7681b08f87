"""The package's shape: one top-level package, no import cycle, cores without Faust, nothing at import."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "agents" / "leaderwatch"


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(path: Path, everywhere: bool = False) -> set[str]:
    """leaderwatch modules imported by a file: at its top level only (what importing it runs), or
    anywhere in it (function bodies too)."""
    tree = ast.parse(path.read_text())
    nodes = ast.walk(tree) if everywhere else tree.body
    names = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("leaderwatch"):
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("leaderwatch"))
    return names & set(modules())


def test_no_import_cycle_at_module_level():
    graph = {name: imports_of(path) - {name} for name, path in modules().items()}
    state: dict[str, int] = {}

    def visit(name, trail):
        if state.get(name) == 1:
            raise AssertionError("import cycle: " + " -> ".join(trail + [name]))
        if state.get(name) == 2:
            return
        state[name] = 1
        for other in graph[name]:
            # importing a.b.c runs a and a.b first: parents are not edges of a cycle
            if not name.startswith(other + "."):
                visit(other, trail + [name])
        state[name] = 2

    for name in graph:
        visit(name, [])


def test_every_module_without_its_own_faust_import_loads_without_faust():
    """In a fresh interpreter, import each module that does not import faust itself; faust must
    not be loaded, and the cores of clean, extract, mentions and alerts are among them."""
    def imports_faust(path):
        tree = ast.parse(path.read_text())
        return any(isinstance(n, (ast.Import, ast.ImportFrom)) and "faust" in ast.unparse(n).split()[1]
                   for n in tree.body)

    plain = [name for name, path in modules().items() if not imports_faust(path)]
    heavy = {name for name, path in modules().items() if imports_faust(path)}
    # a module that imports a Faust-importing module at top level is not plain either
    changed = True
    while changed:
        changed = False
        for name in list(plain):
            if imports_of(modules()[name]) & heavy:
                plain.remove(name)
                heavy.add(name)
                changed = True
    for core in ("leaderwatch.pipeline.clean", "leaderwatch.pipeline.extract", "leaderwatch.pipeline.mentions",
                 "leaderwatch.pipeline.alerts", "leaderwatch.records", "leaderwatch.dead", "leaderwatch.settings"):
        assert core in plain
    code = ("import importlib, sys\n"
            f"for name in {sorted(plain)!r}:\n"
            "    importlib.import_module(name)\n"
            "    assert 'faust' not in sys.modules, name + ' loaded faust'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
def test_each_module_imports_first_and_alone():
    """`import leaderwatch.X` as the first import of a process works for every module (no
    partially initialised module), and does no work: no app is built, no argv is read."""
    for name in sorted(modules()):
        script = f"import sys; sys.argv = ['leaderwatch', 'worker']; import {name}"
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"import {name}: {result.stderr[-1500:]}"
        assert result.stdout == "" and "leaderwatch worker" not in result.stderr, f"import {name} printed something"


def test_no_faust_app_is_built_at_import():
    names = sorted(modules())
    code = ("import importlib, gc, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "import faust\n"
            "apps = [o for o in gc.get_objects() if isinstance(o, faust.App)]\n"
            "assert not apps, apps\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
