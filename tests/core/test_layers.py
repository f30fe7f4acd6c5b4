"""The layers read one way: a test that reads every import (with `ast`) and fails on a violation.

top     the CLI (`swoosh.cli`, every `cli` / `*_cli` module), the stack, the pytest plugin, the inspector
middle  the fake Segment, the fake Pushwoosh, the bridge, the Pact harness, fixtures and traffic
bottom  the schema registry (`swoosh.contracts`, not `.pact`) and the emulator core (`swoosh.emulator.*`)

Nothing imports upward; the bridge imports nothing of either fake; the fakes import nothing of each
other; no cycle between components nor between modules (imports inside functions count too).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# installed package -> repository folder (pyproject's package-dir)
FOLDERS = {
    "swoosh": ROOT / "swoosh",
    "swoosh.emulator": ROOT / "emulator",
    "swoosh.bridge": ROOT / "bridge",
    "swoosh.contracts": ROOT / "contracts",
    "swoosh.fixtures": ROOT / "fixtures",
}
OLD_TOP_LEVEL = ("emulator", "bridge", "contracts", "fixtures")
TOP, MIDDLE, BOTTOM = 3, 2, 1
# component prefix -> layer; the longest matching prefix wins
COMPONENTS = {
    "swoosh": TOP,
    "swoosh.emulator.pytest_plugin": TOP,
    "swoosh.inspector": TOP,
    "swoosh.emulator.segment": MIDDLE,
    "swoosh.emulator.pushwoosh": MIDDLE,
    "swoosh.bridge": MIDDLE,
    "swoosh.contracts.pact": MIDDLE,
    "swoosh.fixtures": MIDDLE,
    "swoosh.contracts": BOTTOM,
    "swoosh.emulator": BOTTOM,
}
FAKES = ("swoosh.emulator.segment", "swoosh.emulator.pushwoosh")


def _module_name(path: Path) -> str:
    for package, folder in sorted(FOLDERS.items(), key=lambda item: -len(str(item[1]))):
        if path.is_relative_to(folder):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            return ".".join(parts)
    raise AssertionError(f"{path} is outside the mapped folders")


@cache
def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            if package == "swoosh" or not path.is_relative_to(ROOT / "swoosh"):
                found[_module_name(path)] = path
    return found


def _is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _resolve(importer: str, node: ast.ImportFrom) -> Iterator[str]:
    base = node.module or ""
    if node.level:
        package = importer if _is_package(importer) else importer.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        yield candidate if candidate in modules() else base


def imports_of(name: str) -> set[str]:
    """Every project module `name` imports, at any depth of its code."""
    tree = ast.parse(modules()[name].read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            targets = list(_resolve(name, node))
        for target in targets:
            while target and target not in modules():
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def lazy_targets_of(name: str) -> set[str]:
    """ "module:attr" strings (lazy subcommands, stack services) are imports too."""
    text = modules()[name].read_text()
    return {m for m in re.findall(r"[\"'](swoosh[\w.]*):\w+[\"']", text) if m in modules()}


def component(name: str) -> str:
    return max((prefix for prefix in COMPONENTS if name == prefix or name.startswith(prefix + ".")), key=len)


def layer(name: str) -> int:
    last = name.rpartition(".")[2]
    if last == "cli" or last.endswith("_cli"):
        return TOP
    return COMPONENTS[component(name)]


def _graph() -> dict[str, set[str]]:
    return {name: imports_of(name) | lazy_targets_of(name) for name in modules()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_map_covers_every_module() -> None:
    assert "swoosh.emulator.segment.backend" in modules()
    assert "swoosh.bridge.destination" in modules()
    assert all(component(name) for name in modules())


def test_nothing_imports_upward() -> None:
    upward = {
        f"{name} -> {target}" for name, targets in _graph().items() for target in targets if layer(target) > layer(name)
    }
    assert upward == set()


def test_the_bridge_imports_nothing_of_either_fake() -> None:
    graph = _graph()
    bad = {
        f"{name} -> {target}"
        for name in graph
        if component(name) == "swoosh.bridge"
        for target in graph[name]
        if component(target) in FAKES
    }
    assert bad == set()


def test_the_fakes_import_nothing_of_each_other() -> None:
    graph = _graph()
    bad = [
        f"{name} imports {target}"
        for name in graph
        if component(name) in FAKES and layer(name) != TOP
        for target in graph[name]
        if component(target) in FAKES and component(target) != component(name)
    ]
    assert bad == []


def test_no_cycle_between_modules() -> None:
    assert _cycles(_graph()) == []


def test_no_cycle_between_components() -> None:
    components: dict[str, set[str]] = {}
    for name, targets in _graph().items():
        if layer(name) == TOP:
            continue  # the CLI modules beside each area are the top layer, not part of the area
        mine = component(name)
        components.setdefault(mine, set()).update(component(t) for t in targets if component(t) != mine)
    assert _cycles(components) == []


SOURCE_FOLDERS = ["emulator", "bridge", "contracts", "fixtures", "swoosh", "tests", "bench", "examples"]


@pytest.mark.parametrize("folder", SOURCE_FOLDERS)
def test_nothing_imports_the_old_top_level_names(folder: str) -> None:
    """Installed, only `swoosh` exists: `import emulator` would work in a checkout and fail for users."""
    bad = []
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            bad += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in OLD_TOP_LEVEL]
    assert bad == []


def test_every_package_folder_is_installed() -> None:
    """pyproject lists packages explicitly (the folders are mapped): a new sub-package must be listed."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    packages = {name for name, path in modules().items() if path.name == "__init__.py"}
    assert packages == listed


def test_no_module_is_over_500_lines() -> None:
    """Data modules (tables of literals) are exempt; code modules stay small enough to read."""
    data = {"swoosh.fixtures.locales"}
    long = {
        name: n
        for name, path in modules().items()
        if name not in data and (n := len(path.read_text().splitlines())) > 500
    }
    assert long == {}
