"""`node_sdk`: @segment/analytics-node installed by npm at test time, for the tests that drive it.

npm installs it into a cache dir outside the repo ($SWOOSH_NODE_CACHE, else ~/.cache/swoosh/analytics-node).
Tests skip only when node/npm are missing or the registry cannot be reached; any other install
failure fails them.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SDK_RANGE = ">=2 <4"  # the current 3.x, or the 2.x line if that is what npm resolves
INSTALL_TIMEOUT = 240
OFFLINE_SIGNS = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH", "network")


def _cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "swoosh" / "analytics-node"
    return Path(os.environ.get("SWOOSH_NODE_CACHE") or default)


@pytest.fixture(scope="module")
def node_sdk() -> Path:
    """A directory whose node_modules holds @segment/analytics-node; installed (or refreshed) now."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are needed for the @segment/analytics-node test (not found on PATH)")
    folder = _cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"private": True, "dependencies": {"@segment/analytics-node": SDK_RANGE}}
    with open(folder / ".install.lock", "w") as lock:  # xdist workers share the cache
        fcntl.flock(lock, fcntl.LOCK_EX)
        (folder / "package.json").write_text(json.dumps(manifest))
        try:
            done = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.skip(f"npm install did not finish in {INSTALL_TIMEOUT}s (no network to the package registry?)")
    if done.returncode != 0:
        output = done.stdout + done.stderr
        if any(sign in output for sign in OFFLINE_SIGNS):
            pytest.skip(f"npm could not reach the package registry:\n{output[-1500:]}")
        pytest.fail(f"npm install failed:\n{output[-3000:]}")
    return folder
