"""The example shop is its own project: CI runs it once, on its own, and it never leans on this repo's tests."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"


def test_the_root_run_does_not_collect_the_example() -> None:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert root["testpaths"] == ["tests"]
    own = tomllib.loads((SHOP / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert own["testpaths"] == ["tests"], "the shop needs its own pytest config so it is its own rootdir"


def test_ci_runs_the_example_once_after_the_readme_command() -> None:
    steps = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    readme_command = steps.index('pip install -e ".[test]" && pytest')
    assert steps[readme_command + 1 :].count("pytest examples/shop") == 1


def test_the_example_uses_only_the_plugin_not_this_repos_code() -> None:
    for source in SHOP.rglob("*.py"):
        imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", source.read_text(), flags=re.M)
        local = {name.split(".")[0] for name in imports} & {"tests", "emulator", "bridge", "swoosh", "contracts"}
        assert not local, f"{source.relative_to(ROOT)} imports {local}: use the plugin's fixtures instead"
