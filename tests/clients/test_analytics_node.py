"""The official Node SDK (@segment/analytics-node, as npm resolves it) against the fake Segment.

npm installs it at test time into a cache dir outside the repo ($SWOOSH_NODE_CACHE, else
~/.cache/swoosh/analytics-node). The test skips only when node/npm are missing or the registry cannot
be reached; any other install failure fails it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.segment.app import create_app
from emulator.segment.backend import SegmentBackend
from emulator.segment.client import SegmentClient
from emulator.segment.config import load_config
from emulator.serving import ServerThread

SCRIPT = Path(__file__).with_name("node") / "send_events.js"
SDK_RANGE = ">=2 <4"  # the current 3.x, or the 2.x line if that is what npm resolves
INSTALL_TIMEOUT = 240
OFFLINE_SIGNS = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH", "network")

# The events send_events.js makes, in call order, keyed by what tells them apart.
CALLS = [
    ("identify", None, "node-user-1", None),
    ("track", "Product Searched", "node-user-1", None),
    ("track", "Viewed Home", "anon-7", None),
    *[("track", "Order Completed", f"node-user-{i}", f"o-{i}") for i in range(1, 6)],
]


def _key(event: dict[str, Any]) -> tuple[Any, ...]:
    who = event.get("userId") or event.get("anonymousId")
    return event["type"], event.get("event"), who, (event.get("properties") or {}).get("order_id")


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


@pytest.fixture
def segment_url() -> Iterator[str]:
    backend = SegmentBackend(load_config(None))
    with ServerThread(create_app(backend)) as server:
        yield server.url
    backend.close()


def test_the_fake_sees_exactly_what_analytics_node_sent(node_sdk: Path, segment_url: str) -> None:
    run = subprocess.run(
        ["node", str(SCRIPT), segment_url, "app-write-key"],
        cwd=node_sdk,
        env={**os.environ, "NODE_PATH": str(node_sdk / "node_modules")},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["failures"] == []
    sent = {_key(event): event for event in report["sent"]}
    assert sorted(sent, key=CALLS.index) == CALLS

    segment = SegmentClient(segment_url)
    received = {_key(message): message for message in segment.messages()}
    assert set(received) == set(CALLS) and segment.bad_events() == []
    installed = json.loads((node_sdk / "node_modules/@segment/analytics-node/package.json").read_text())["version"]
    assert report["version"] == installed
    for key, event in sent.items():
        message = received[key]
        assert message["context"]["library"] == {"name": "@segment/analytics-node", "version": installed}
        # Everything the SDK built arrives unchanged; only `timestamp` is skew-corrected by the fake.
        assert {k: v for k, v in message.items() if k in event and k != "timestamp"} == {
            k: v for k, v in event.items() if k != "timestamp"
        }
        assert message["originalTimestamp"] == event["timestamp"]
        assert message["writeKey"] == "app-write-key"

    # flushAt=3 cuts the eight calls into batches of 3, 3 and 2, in call order, over /v1/batch.
    requests = segment.journal(path="/v1/batch")
    assert all(r["status"] == 200 and not r["body_truncated"] for r in requests)
    batches = {frozenset(_key(e) for e in json.loads(r["body"])["batch"]) for r in requests}
    assert batches == {frozenset(CALLS[0:3]), frozenset(CALLS[3:6]), frozenset(CALLS[6:8])}
    assert {json.loads(r["body"]).get("writeKey") for r in requests} == {"app-write-key"}
