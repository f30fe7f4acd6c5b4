"""The official Node SDK (@segment/analytics-node, as npm resolves it) against the fake Segment.

The SDK is installed at test time by the `node_sdk` fixture (tests/clients/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swoosh.emulator.segment.app import create_app
from swoosh.emulator.segment.backend import SegmentBackend
from swoosh.emulator.segment.client import SegmentClient
from swoosh.emulator.segment.config import load_config
from swoosh.emulator.serving import ServerThread

SCRIPT = Path(__file__).with_name("node") / "send_events.js"
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
        assert message["writeKey"] == "<redacted>"  # it arrived in the body; inspection never shows it

    # flushAt=3 cuts the eight calls into batches of 3, 3 and 2, in call order, over /v1/batch.
    requests = segment.journal(path="/v1/batch")
    assert all(r["status"] == 200 and not r["body_truncated"] for r in requests)
    batches = {frozenset(_key(e) for e in json.loads(r["body"])["batch"]) for r in requests}
    assert batches == {frozenset(CALLS[0:3]), frozenset(CALLS[3:6]), frozenset(CALLS[6:8])}
    # the SDK sends the key in every body too; the journal shows that it did, never its value
    assert {json.loads(r["body"]).get("writeKey") for r in requests} == {"<redacted>"}
