"""`swoosh up`'s live log, end to end: a subprocess on loopback ports 0, real SDK and HTTP traffic, its stdout read.

Text lines and JSON lines for the traffic of the README's tour (arrivals, deliveries through the bridge,
refusals); a bounded burst (5,000 events) summarised per second with every event accounted for, single
lines again once the rate drops; `--quiet` (from the environment) prints no line per event; and no
credential in any line: custom write keys and tokens, the signed deliveries to the bridge, and
requests carrying wrong keys, signatures and tokens of their own.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import segment.analytics as sa

START_TIMEOUT_S = 60.0
WRITE_KEY = "live-log-write-key-5f2e"
API_TOKEN = "live-log-api-token-91ac"
WRONG = {
    "write key": "wrong-write-key-3d7b",
    "signature": "0123456789abcdef0123456789abcdef01234567",
    "bearer": "wrong-bearer-token-c44e",
    "auth": "wrong-api-token-8e1f",
}
SECRETS = (WRITE_KEY, API_TOKEN, *WRONG.values())
CONFIG = f"""
[segment]
sources = [{{ name = "app", write_key = "{WRITE_KEY}" }}, {{ name = "pushwoosh", write_key = "pw-{WRITE_KEY}" }}]

[pushwoosh]
api_tokens = ["{API_TOKEN}"]
"""
TEXT_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} (\S+)\s+(\S+(?: letter)?)\s+(.+)$")


@dataclass
class Up:
    process: subprocess.Popen[bytes]
    urls: dict[str, str]
    out: Path
    err: Path

    def stop(self) -> tuple[str, str]:
        """SIGTERM, wait, and the whole stdout and stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.out.read_text(), self.err.read_text()


def start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Up:
    data_dir = tmp_path / "data"
    config = tmp_path / "swoosh.toml"
    config.write_text(CONFIG)
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    ports = ("--port", "segment=0", "--port", "pushwoosh=0", "--port", "bridge=0")
    command = [sys.executable, "-c", "from swoosh.cli import main; main()", "up", *ports, *args]
    command += ["--data-dir", str(data_dir), "--config", str(config)]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SWOOSH_")} | (env or {})
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=environment)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            info = json.loads((data_dir / "stack.json").read_text())
        except (OSError, ValueError):
            info = {}
        if info.get("pid") == process.pid:
            return Up(process, {name: s["url"] for name, s in info["services"].items()}, out, err)
        assert process.poll() is None, f"swoosh up exited: {err.read_text()}"
        time.sleep(0.1)
    process.kill()
    raise AssertionError("swoosh up did not start in time")


@pytest.fixture
def stacks() -> Iterator[list[Up]]:
    started: list[Up] = []
    yield started
    for up in started:
        up.stop()


def tour(urls: dict[str, str]) -> None:
    """The README's tour with the official SDK, then refusals carrying credentials of their own."""
    client = sa.Client(WRITE_KEY, host=urls["segment"], sync_mode=True)
    client.identify("live-u1", {"searched_product": "sports shoes"})
    client.track("live-u1", "SubscribedToOffers", {"plan": "gold"})
    client.flush()
    segment, pushwoosh, bridge = urls["segment"], urls["pushwoosh"], urls["bridge"]
    httpx.post(f"{segment}/v1/track", json={"writeKey": WRITE_KEY, "event": "No User"})
    httpx.post(f"{segment}/v1/track", json={"writeKey": WRONG["write key"], "userId": "u", "event": "E"})
    httpx.get(f"{segment}/v1/projects/{WRITE_KEY}/settings")
    httpx.post(f"{bridge}/segment", json={"type": "track"}, headers={"X-Signature": WRONG["signature"]})
    httpx.post(f"{bridge}/pushwoosh", json={}, headers={"Authorization": f"Bearer {WRONG['bearer']}"})
    app = {"application": "ABCDE-12345"}
    httpx.post(f"{pushwoosh}/json/1.3/createMessage", json={"request": {**app, "auth": WRONG["auth"]}})
    register = {**app, "hwid": "live-phone", "device_type": 1, "userId": "live-u1"}
    httpx.post(f"{pushwoosh}/json/1.3/registerDevice", json={"request": register})
    message = {**app, "auth": API_TOKEN, "notifications": [{"content": "Hi", "campaign": "LIVE"}]}
    httpx.post(f"{pushwoosh}/json/1.3/createMessage", json={"request": message})
    wait_for_warehouse(segment)


def wait_for_warehouse(segment: str) -> None:
    """The push's message events went back through the bridge into the fake Segment."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events = httpx.get(f"{segment}/_swoosh/events", params={"source": "pushwoosh"}).json()["items"]
        if events:
            time.sleep(0.5)  # the bridge's delivery line comes right after the fake Segment's answer
            return
        time.sleep(0.1)
    raise AssertionError("no message event reached the fake Segment")


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert not re.search(r"\b[0-9a-f]{40}\b", text)  # no X-Signature (hex HMAC-SHA1)


def test_text_lines_for_arrivals_deliveries_and_refusals_without_a_credential(tmp_path: Path, stacks: list[Up]) -> None:
    up = start(tmp_path)
    stacks.append(up)
    tour(up.urls)
    out, _ = up.stop()
    banner_end = out.index("state: ") if "state: " in out else out.index("locator: ")
    log_lines = out[banner_end:].splitlines()[1:]
    parsed = [TEXT_LINE.match(line) for line in log_lines]
    assert log_lines and all(parsed), log_lines
    seen = {(m[1], m[2], m[3]) for m in parsed if m}
    texts = [f"{service} {kind} {what}" for service, kind, what in seen]
    assert "segment arrival app identify by live-u1: 1 good" in texts
    assert 'segment arrival app track "SubscribedToOffers" by live-u1: 1 good' in texts
    assert 'segment refusal app track "No User": 1 bad (no_user_anon_id)' in texts
    assert "segment refusal unknown write key: 1 dropped (unknown_write_key)" in texts
    assert any(t.startswith("segment delivery") and "to destination Pushwoosh: 200" in t for t in texts)
    assert any(t.startswith("pushwoosh arrival POST /integration-segment/v1/") for t in texts)
    assert any(t.startswith("bridge delivery") and "to pushwoosh: 200" in t for t in texts)
    assert any(t.startswith("bridge delivery") and "to segment: 200" in t for t in texts)
    assert any(t.startswith("pushwoosh delivery") and "to webhook http://" in t for t in texts)
    assert any(t.startswith("bridge refusal POST /segment 401: bad_signature") for t in texts)
    assert any(t.startswith("bridge refusal POST /pushwoosh 401: unauthorized") for t in texts)
    assert any(t.startswith("pushwoosh refusal POST /json/1.3/createMessage 200: 210 Account not found") for t in texts)
    assert any("/v1/projects/<redacted>/settings" in t for t in texts)
    columns = {len(line) - len(m[3]) for line, m in zip(log_lines, parsed, strict=True) if m}
    assert columns == {len("00:00:00.000 ") + 10 + 12}  # aligned: the text starts in one column
    assert "\033[" not in out  # not a terminal
    assert_no_secret("\n".join(log_lines))


def test_json_lines_from_the_environment_are_all_of_stdout(tmp_path: Path, stacks: list[Up]) -> None:
    up = start(tmp_path, env={"SWOOSH_LOG_FORMAT": "json"})
    stacks.append(up)
    tour(up.urls)
    out, err = up.stop()
    assert "swoosh is up" in err  # the banner goes to stderr: stdout is JSON only
    objects = [json.loads(line) for line in out.splitlines()]
    assert objects
    assert all({"ts", "service", "kind"} <= set(o) for o in objects)
    kinds = {(o["service"], o["kind"]) for o in objects}
    assert {("segment", "arrival"), ("segment", "refusal"), ("segment", "delivery")} <= kinds
    assert {("pushwoosh", "arrival"), ("pushwoosh", "refusal"), ("bridge", "delivery"), ("bridge", "refusal")} <= kinds
    good = [o for o in objects if o["kind"] == "arrival" and o["service"] == "segment" and o.get("source") == "app"]
    assert sum(o["outcomes"].get("good", 0) for o in good) == 2
    assert_no_secret(out)


def test_a_burst_is_summarised_per_second_and_single_lines_resume(tmp_path: Path, stacks: list[Up]) -> None:
    up = start(tmp_path, "--log-format", "json")
    stacks.append(up)
    events = 5000
    with ThreadPoolExecutor(4) as senders:  # 4 at a time: well above 20 lines a second even on a busy machine
        assert all(senders.map(lambda part: send_burst(up.urls["segment"], part, events // 40), range(4)))
    deadline = time.monotonic() + 60
    while httpx.get(f"{up.urls['bridge']}/_swoosh/stats").json()["segment"]["delivered"] < events:
        assert time.monotonic() < deadline, "the burst did not reach the fake Pushwoosh"
        time.sleep(0.2)
    time.sleep(2.5)  # the burst's last second is summarised, and the next one is quiet
    sa.Client(WRITE_KEY, host=up.urls["segment"], sync_mode=True).identify("after-the-burst", {"x": 1})
    time.sleep(0.5)
    out, _ = up.stop()
    objects = [json.loads(line) for line in out.splitlines()]
    segment = [o for o in objects if o["service"] == "segment" and o["kind"] in ("arrival", "summary")]
    summaries = [o for o in segment if o["kind"] == "summary"]
    single = [o for o in segment if o["kind"] == "arrival"]
    assert summaries, "a burst of 5,000 events must be summarised"
    counted = sum(s["counts"].get("arrival", 0) for s in summaries)
    assert counted + sum(o["count"] for o in single) == events + 1  # every message accounted for, once
    assert len(single) < 100  # not 500 lines: a few a second
    assert single[-1]["count"] == 1 and segment[-1] is single[-1]  # after the burst, one line again


def send_burst(segment: str, part: int, requests: int) -> bool:
    """`requests` batches of 10 fresh track events."""
    with httpx.Client(base_url=segment, auth=(WRITE_KEY, ""), timeout=30) as client:
        for n in range(requests):
            batch = [
                {"type": "track", "userId": "b", "event": "Burst", "messageId": f"b{part}-{n}-{i}"} for i in range(10)
            ]
            assert client.post("/v1/batch", json={"batch": batch}).status_code == 200
    return True


def test_quiet_prints_the_banner_and_no_line_per_event(tmp_path: Path, stacks: list[Up]) -> None:
    up = start(tmp_path, env={"SWOOSH_QUIET": "1"})
    stacks.append(up)
    client = sa.Client(WRITE_KEY, host=up.urls["segment"], sync_mode=True)
    client.identify("quiet-u1", {"searched_product": "socks"})
    httpx.post(f"{up.urls['segment']}/v1/track", json={"writeKey": WRITE_KEY, "event": "No User"})
    time.sleep(1.0)
    out, _ = up.stop()
    assert "swoosh is up" in out
    assert not [line for line in out.splitlines() if TEXT_LINE.match(line)]
