"""The README runs as written: its tour and its contracts block, block by block, against a stack.

The only change made to a block is the one a reader's machine makes: the stack here listens on free
ports, so the README's 8001/8002/8003 become those ports (and the traffic run is shortened).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from swoosh.stack import Stack, StackOptions

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
PORTS = {"8001": "segment", "8002": "pushwoosh", "8003": "bridge"}


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def block_with(language: str, needle: str) -> str:
    found = [block for block in blocks(language) if needle in block]
    assert len(found) == 1, f"expected one {language} block with {needle!r}"
    return found[0]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, dict[str, str]]]:
    run_dir = tmp_path_factory.mktemp("run")
    previous = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(run_dir)  # `swoosh sql` and `traffic` find this stack, no other
    try:
        with Stack(StackOptions(data_dir=tmp_path_factory.mktemp("data"))) as running:
            env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
            yield running, env
    finally:
        if previous is None:
            os.environ.pop("XDG_RUNTIME_DIR", None)
        else:
            os.environ["XDG_RUNTIME_DIR"] = previous


def localised(block: str, running: Stack) -> str:
    urls = running.urls
    for port, name in PORTS.items():
        block = block.replace(f"http://127.0.0.1:{port}", urls[name]).replace(f"127.0.0.1:{port}", urls[name][7:])
    return block


def shell(block: str, env: dict[str, str], cwd: Path = ROOT) -> str:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def eventually(check: Callable[[], str], expected: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while True:
        output = check()
        if expected in output or time.monotonic() > deadline:
            assert expected in output, output
            return output
        time.sleep(0.2)


def test_the_tour_runs_as_written(stack: tuple[Stack, dict[str, str]]) -> None:
    running, env = stack
    exec(localised(block_with("python", "client.identify(\"u1\""), running), {})
    tags = localised(block_with("bash", "/_swoosh/tags?user_id=u1"), running)
    eventually(lambda: shell(tags, env), '"searched_product":"sports shoes"')
    push = localised(block_with("bash", "createTargetedMessage"), running)
    eventually(lambda: shell(push, env), "10% off Sports shoes!")
    sql = block_with("bash", "swoosh sql")
    rows = eventually(lambda: shell(sql, env), "PROMO")
    assert re.search(r"u1\s*\|\s*PROMO\s*\|\s*iOS", rows), rows
    shell(localised(block_with("bash", "/_swoosh/faults"), running), env)
    stats = re.search(r"`(curl -s http://127.0.0.1:8003/_swoosh/stats)`", README)
    assert stats is not None
    assert '"delivered"' in shell(localised(stats.group(1), running), env)
    for service in ("segment", "pushwoosh"):  # the tour's faults must not reach the next block
        shell(f"curl -s -X DELETE {running.urls[service]}/_swoosh/faults -H 'Content-Type: application/json'", env)


def test_the_contracts_block_runs_and_ends_yes(stack: tuple[Stack, dict[str, str]], tmp_path: Path) -> None:
    running, env = stack
    block = localised(block_with("bash", "swoosh contracts can-i-deploy"), running)
    block = block.replace("--duration 30", "--duration 2")
    output = shell(block, env, cwd=tmp_path)
    assert output.rstrip().splitlines()[-1].lower().startswith("yes"), output
