"""The plugin as installed: the README's test needs nothing but the package, and xdist workers share nothing."""

from __future__ import annotations

import ast
import json
import re
from importlib.metadata import packages_distributions, requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.plugin.test_plugin import NEWCOMER

ROOT = Path(__file__).resolve().parents[2]


def _readme_plugin_snippet() -> str:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    return next(block for block in blocks if "swoosh_stack" in block)


def test_the_readme_shows_exactly_the_issues_newcomer_test() -> None:
    assert _readme_plugin_snippet().strip() == NEWCOMER.strip()


def test_what_the_readme_snippet_imports_is_a_runtime_dependency() -> None:
    """`pip install swoosh` alone must make the snippet importable: no extra, no test-only pin."""
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(_readme_plugin_snippet()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert imported == {"segment"}
    requirements = [Requirement(line) for line in requires("swoosh") or []]
    runtime = {r.name.lower() for r in requirements if r.marker is None or "extra" not in str(r.marker)}
    for module in imported:
        distributions = {name.lower() for name in packages_distributions()[module]}
        assert distributions & runtime, f"{module} comes from {distributions}, not a runtime dependency: {runtime}"


def test_the_newcomer_test_passes_in_a_fresh_directory(pytester: pytest.Pytester) -> None:
    """No conftest, no ini file, no cache: only the installed package and its entry point."""
    pytester.makepyfile(test_newcomer=NEWCOMER)
    assert not (pytester.path / "conftest.py").exists() and not (pytester.path / "pytest.ini").exists()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error::pytest.PytestUnknownMarkWarning")
    result.assert_outcomes(passed=1)


def test_each_xdist_worker_runs_its_own_servers(pytester: pytest.Pytester, tmp_path: Path) -> None:
    out = tmp_path / "seen"
    out.mkdir()
    pytester.makepyfile(
        test_workers=f"""
import json, os, pathlib
import httpx

def test_own_servers(swoosh_stack, worker_id):
    seg = swoosh_stack.segment
    httpx.post(f"{{seg.url}}/v1/track", auth=(seg.write_key, ""), json={{"userId": worker_id, "event": "Ping"}})
    seg.assert_tracked("Ping", user_id=worker_id)
    assert [m["userId"] for m in seg.messages(type="track")] == [worker_id], "another worker's event leaked in"
    urls = {{"segment": seg.url, "pushwoosh": swoosh_stack.pushwoosh.url, "bridge": swoosh_stack.bridge.url}}
    pathlib.Path({str(out)!r}, worker_id).write_text(json.dumps({{"pid": os.getpid(), **urls}}))
"""
    )
    # --dist each runs the test on every worker, so both workers surely start their servers.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--dist", "each")
    result.assert_outcomes(passed=2)
    seen = {path.name: json.loads(path.read_text()) for path in out.iterdir()}
    assert sorted(seen) == ["gw0", "gw1"]
    assert seen["gw0"]["pid"] != seen["gw1"]["pid"]
    for service in ("segment", "pushwoosh", "bridge"):
        assert seen["gw0"][service] != seen["gw1"][service], f"both workers share the {service} server"
