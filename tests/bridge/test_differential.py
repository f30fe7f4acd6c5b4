"""The bridge against Segment's own Pushwoosh destination: same events in, same requests out.

Segment's published packages (the destination's code from @segment/action-destinations, run by
@segment/actions-core) are installed by npm at test time and driven with their preset mappings over
a seeded corpus (tests/bridge/corpus.py) against a loopback capture server. Single-event mode: every
request is identical in path, headers and body, and every event the destination refuses the bridge
skips with the same text. Batched mode: identical except the documented `app_id` -> `app_code`.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from swoosh.bridge.destination import Mappings, requests_for
from swoosh.bridge.transport import PushwooshSender
from tests.bridge.corpus import corpus
from tests.npm import installed, npm

ACTIONS_CORE = "3.170.0"
ACTION_DESTINATIONS = "3.497.0"
APP, KEY = "ABCDE-12345", "KEY123"
SCRIPT = Path(__file__).with_name("node") / "pushwoosh_destination.js"
HEADERS = ("authorization", "x-pw-appcode", "content-type", "user-agent")  # what the destination sets
EVENT_TYPES = ("track", "page", "screen")


def _extract_destination(folder: Path) -> None:
    """`npm pack` the destinations package once and keep only the Pushwoosh destination's code."""
    target = folder / "pushwoosh"
    if (target / "index.js").exists():
        return
    npm(["pack", f"@segment/action-destinations@{ACTION_DESTINATIONS}", "--silent"], folder)
    prefix = "package/dist/destinations/pushwoosh/"
    with tarfile.open(folder / f"segment-action-destinations-{ACTION_DESTINATIONS}.tgz") as archive:
        for member in archive.getmembers():
            if member.name.startswith(prefix) and member.isfile() and member.name.endswith(".js"):
                member.name = member.name.removeprefix(prefix)
                archive.extract(member, target, filter="data")


@pytest.fixture(scope="module")
def destination() -> Path:
    return installed(
        "pushwoosh-destination",
        # liquidjs: a peer of actions-core that the destinations package brings (its own range)
        {"@segment/actions-core": ACTIONS_CORE, "liquidjs": "^10.25.7"},
        "the differential test against Segment's Pushwoosh destination",
        then=_extract_destination,
    )


class Capture(BaseHTTPRequestHandler):
    """Records every request (path, headers, body) and answers 200 with an empty body, as Pushwoosh does."""

    seen: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.seen.append({"path": self.path, "headers": headers, "body": json.loads(body)})  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def capture() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server.seen  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def run_destination(folder: Path, url: str, mode: str, events: Any, tmp_path: Path) -> dict[str, Any]:
    events_file = tmp_path / f"{mode}.json"
    events_file.write_text(json.dumps(events))
    done = subprocess.run(
        ["node", str(SCRIPT), str(folder / "pushwoosh"), url, mode, str(events_file)],
        cwd=folder,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "NODE_PATH": str(folder / "node_modules")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def normal(value: Any) -> Any:
    """JSON as both sides mean it: numbers compared as numbers (Python's 30 and JavaScript's 30.0 alike)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [normal(v) for v in value]
    return {k: normal(v) for k, v in value.items()}


def bridge_requests(url: str, events: list[dict[str, Any]], mappings: Mappings) -> tuple[list[dict], list]:
    """The bridge's requests for `events` as they leave its sender, and what it skipped."""
    seen: list[dict[str, Any]] = []

    def record(request: httpx.Request) -> httpx.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        seen.append({"path": request.url.path, "headers": headers, "body": json.loads(request.content)})
        return httpx.Response(200)

    sender = PushwooshSender(url, KEY, APP, client=httpx.Client(transport=httpx.MockTransport(record)))
    requests, skipped = requests_for(events, mappings)
    for request in requests:
        sender.send(request)
    return seen, skipped


def test_single_event_mode_sends_exactly_what_segments_destination_sends(
    destination: Path, capture: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, captured = capture
    events = corpus()
    report = run_destination(destination, url, "single", events, tmp_path)
    assert report["version"] == ACTIONS_CORE and len(report["results"]) == len(events)
    ours, skipped = bridge_requests(url, events, Mappings(APP))

    refused = {i: r["reason"] for i, r in enumerate(report["results"]) if not r["sent"]}
    assert {s.index: s.reason for s in skipped} == refused
    assert len(ours) == len(captured) == len(events) - len(refused)
    assert 50 < len(refused) < len(events) - 100, "the corpus should exercise both sides of every rule"
    for index, (theirs, mine) in enumerate(zip(captured, ours, strict=True)):
        assert mine["path"] == theirs["path"], index
        assert {h: mine["headers"].get(h) for h in HEADERS} == {h: theirs["headers"].get(h) for h in HEADERS}
        assert normal(mine["body"]) == normal(theirs["body"]), (index, mine["body"], theirs["body"])


def test_batched_mode_differs_only_in_app_code(
    destination: Path, capture: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, captured = capture
    tracks = [e for e in corpus(seed=7, count=600) if e["type"] in EVENT_TYPES]
    batches = [tracks[start : start + 100] for start in range(0, len(tracks), 100)]
    report = run_destination(destination, url, "batch", batches, tmp_path)
    assert len(captured) == len(batches)
    mappings = Mappings(APP, batching=True, batch_size=100)
    for batch, statuses, theirs in zip(batches, report["results"], captured, strict=True):
        ours, skipped = bridge_requests(url, batch, mappings)
        assert {s.index: s.reason for s in skipped} == {i: m for i, m in enumerate(statuses) if m}
        [mine] = ours
        assert mine["path"] == theirs["path"] == "/integration-segment/v1/post-events"
        assert {h: mine["headers"].get(h) for h in HEADERS} == {h: theirs["headers"].get(h) for h in HEADERS}
        expected = [{("app_code" if k == "app_id" else k): v for k, v in e.items()} for e in theirs["body"]["events"]]
        assert normal(mine["body"]["events"]) == normal(expected)
