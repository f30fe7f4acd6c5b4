"""npm at test time: install published packages into a cache folder outside the repo, for the tests
that drive Segment's own JavaScript (the Node SDK, the Pushwoosh destination).

Tests skip only when node/npm are missing or the registry cannot be reached; any other failure fails them.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

INSTALL_TIMEOUT = 240
OFFLINE_SIGNS = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH", "network")


def cache_dir(name: str) -> Path:
    """$SWOOSH_NODE_CACHE/NAME, else ~/.cache/swoosh/NAME."""
    root = os.environ.get("SWOOSH_NODE_CACHE")
    if root:
        return Path(root) / name
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "swoosh" / name


def npm(args: list[str], cwd: Path) -> str:
    """Run npm; skip when the registry is out of reach, fail on any other error; returns its stdout."""
    try:
        done = subprocess.run(["npm", *args], cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm {args[0]} did not finish in {INSTALL_TIMEOUT}s (no network to the package registry?)")
    if done.returncode != 0:
        output = done.stdout + done.stderr
        if any(sign in output for sign in OFFLINE_SIGNS):
            pytest.skip(f"npm could not reach the package registry:\n{output[-1500:]}")
        pytest.fail(f"npm {args[0]} failed:\n{output[-3000:]}")
    return done.stdout


def installed(name: str, dependencies: dict[str, str], why: str, then: Callable[[Path], None] | None = None) -> Path:
    """A folder whose node_modules holds `dependencies`, installed (or refreshed) now; `then(folder)` runs
    under the same lock (xdist workers share the cache)."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip(f"node and npm are needed for {why} (not found on PATH)")
    folder = cache_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        (folder / "package.json").write_text(json.dumps({"private": True, "dependencies": dependencies}))
        npm(["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], folder)
        if then is not None:
            then(folder)
    return folder
