"""Delivery through the bridge under a downstream outage, a 429 storm and a bridge killed mid-stream.

Each test drives the real stack on loopback (the fakes in-process, the bridge in-process or as its own
process), counts what was acknowledged at the edge, what arrived downstream once, what arrived more
than once, and how long the stack took to catch up once the fault was over; each prints one row of
figures that docs/reliability.md keeps. Bounded: fixed event counts, every wait has a timeout.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import segment.analytics as sa

from swoosh.emulator.pushwoosh.client import PushwooshClient
from swoosh.emulator.segment.client import SegmentClient
from swoosh.stack import Stack, StackOptions
from tests import stacks
from tests.e2e.test_stack import register_devices, send_push

APP, TOKEN = "ABCDE-12345", "KEY123"
ROOT = Path(__file__).resolve().parents[2]
OUTAGE_EVENTS, OUTAGE_SECONDS = 200, 3.0
STORM_DEVICES = 100  # a push to each: 200 message events (Sent and Delivered) for the fake Segment
STORM_SECONDS = 3.0
KILLED_EVENTS = 400


@pytest.fixture
def stack(tmp_path: Path, pytestconfig: pytest.Config) -> Iterator[Stack]:
    with Stack(stacks.options(pytestconfig, data_dir=tmp_path)) as running:
        yield running


def figures(title: str, **values: object) -> None:
    print(f"\n[reliability] {title}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in values.items()))


def test_a_pushwoosh_outage_then_recovery_loses_nothing(stack: Stack) -> None:
    """The fake Pushwoosh answers 503 to every integration call for a while; the bridge retries until it is back."""
    segment, pushwoosh = SegmentClient(stack.urls["segment"]), PushwooshClient(stack.urls["pushwoosh"])
    outage = pushwoosh.faults.add(status=503, path="^/integration-segment/")
    client = sa.Client(segment.write_key(), host=segment.base_url, sync_mode=True)
    for i in range(OUTAGE_EVENTS):
        client.track(f"user-{i % 20}", "Viewed Product", {"n": i})
    client.flush()
    acknowledged = segment.counts()["good"]
    time.sleep(OUTAGE_SECONDS)
    refused = next(r["fired"] for r in pushwoosh.faults.list() if r["id"] == outage["id"])
    pushwoosh.faults.remove(outage["id"])
    over = time.monotonic()
    pushwoosh.wait("events", OUTAGE_EVENTS, timeout=60, name="Viewed Product")
    recovered = time.monotonic() - over
    arrived = Counter(e["attributes"]["n"] for e in pushwoosh.events(name="Viewed Product"))
    stats = httpx.get(f"{stack.urls['bridge']}/_swoosh/stats").json()["segment"]
    figures(
        f"Pushwoosh down {OUTAGE_SECONDS:g} s",
        acknowledged_by_Segment=acknowledged,
        calls_refused_503=refused,
        event_retries_by_the_bridge=stats["retried"],
        present_in_Pushwoosh=len(arrived),
        duplicated=sum(n - 1 for n in arrived.values()),
        lost=OUTAGE_EVENTS - len(arrived),
        dead_lettered=stats["dead_lettered"],
        caught_up_after_the_outage=f"{recovered:.2f} s",
    )
    assert acknowledged == OUTAGE_EVENTS and refused >= 1 and stats["retried"] >= 1
    assert sorted(arrived) == list(range(OUTAGE_EVENTS))
    assert stats["dead_lettered"] == 0 and stats["queued"] == 0


def test_a_segment_429_storm_with_retry_after_and_a_slow_downstream(stack: Stack) -> None:
    """Every answer of the fake Segment to the bridge is 429 with Retry-After for a while, then three are slow."""
    segment = SegmentClient(stack.urls["segment"])
    storm = segment.faults.add(status=429, retry_after=1, path="^/v1/batch")
    segment.faults.add(delay_ms=300, times=3, path="^/v1/batch")
    register_devices(stack.urls["pushwoosh"], STORM_DEVICES)
    started = time.monotonic()
    send_push(stack.urls["pushwoosh"])
    time.sleep(STORM_SECONDS)
    segment.faults.remove(storm["id"])
    over = time.monotonic()
    expected = 2 * STORM_DEVICES
    events = segment.wait_for_events(expected, timeout=60, source="pushwoosh")
    caught_up = time.monotonic()
    ids = Counter(e["message"]["messageId"] for e in events)
    duplicates = segment.counts().get("duplicate", 0)
    limited = sum(1 for e in segment.journal(path="/v1/batch") if e["status"] == 429)
    figures(
        f"Segment 429 storm (Retry-After 1 s) for {STORM_SECONDS:g} s, then 3 answers in 300 ms",
        message_events=expected,
        answers_429=limited,
        present_in_Segment_once=len(ids),
        redelivered_and_deduplicated=duplicates,
        all_present_after_the_push=f"{caught_up - started:.2f} s",
        after_the_storm=f"{caught_up - over:.2f} s",
    )
    assert limited >= 1
    assert len(ids) == expected and all(n == 1 for n in ids.values())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_bridge(port: int, data_dir: Path, urls: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SWOOSH_BRIDGE_API_KEY": TOKEN, "SWOOSH_BRIDGE_WRITE_KEY": "pushwoosh-write-key"}
    command = ["bridge", "run", "--port", str(port), "--data-dir", str(data_dir)]
    command += ["--segment-url", urls["segment"], "--pushwoosh-url", urls["pushwoosh"], "--app-code", APP]
    process = subprocess.Popen(
        [sys.executable, "-c", "from swoosh.cli import main; main()", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60  # a loaded CI machine can take long to start Python
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_swoosh/health", timeout=0.5).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("the bridge did not start")


def drain(bridge_url: str, timeout: float = 90.0) -> float:
    """Wait until the bridge's outbox holds nothing in either direction; when that was (monotonic)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = httpx.get(f"{bridge_url}/_swoosh/stats", timeout=10).json()
        if all(stats[direction]["queued"] == 0 for direction in ("segment", "pushwoosh")):
            return time.monotonic()
        time.sleep(0.2)
    raise AssertionError("the bridge's outbox did not drain")


def test_the_bridge_killed_with_sigkill_mid_stream_loses_nothing_and_duplicates_are_deduplicated(
    tmp_path: Path,
) -> None:
    """At-least-once: what the bridge accepted is delivered after its restart; the batch it had on the wire
    at the kill goes again once its lease (30 s) expires, and the fake Segment's messageId dedupe keeps
    each event once."""
    with Stack(StackOptions(only=("segment", "pushwoosh"))) as fakes:
        segment = SegmentClient(fakes.urls["segment"])
        segment.faults.add(delay_ms=1000, path="^/v1/batch")  # a slow downstream: batches in flight at the kill
        port = _free_port()
        bridge = _start_bridge(port, tmp_path, fakes.urls)
        events = [
            {
                "event": "Push Sent",
                "message_code": "AAAA-00000000-00000001",
                "hwid": f"h{i}",
                "user_id": f"u{i}",
                "device_type": 3,
                "timestamp": "2026-11-22T14:08:43.998Z",
            }
            for i in range(KILLED_EVENTS)
        ]
        accepted = 0
        try:
            for start in range(0, len(events), 20):
                if start == KILLED_EVENTS // 2:
                    os.kill(bridge.pid, signal.SIGKILL)  # mid-stream: accepted events may be unsent
                    bridge.wait(timeout=10)
                    bridge = _start_bridge(port, tmp_path, fakes.urls)
                    restarted = time.monotonic()
                reply = httpx.post(f"http://127.0.0.1:{port}/pushwoosh", json={"events": events[start : start + 20]})
                assert reply.status_code == 200
                accepted += reply.json()["accepted"]
            segment.wait_for_events(KILLED_EVENTS, timeout=60, source="pushwoosh")
            caught_up = time.monotonic() - restarted
            drained = drain(f"http://127.0.0.1:{port}") - restarted  # the killed lease expires, its batch goes again
            users = Counter(
                e["message"].get("userId", e["message"].get("anonymousId"))
                for e in segment.events(status="good", source="pushwoosh")
            )
            duplicates = segment.counts()["duplicate"]
            figures(
                "bridge kill -9 after half of 400 events, the fake Segment answering in 1 s",
                accepted_by_the_bridge=accepted,
                present_in_Segment_once=len(users),
                lost=KILLED_EVENTS - len(users),
                all_present_after_the_restart=f"{caught_up:.2f} s",
                redelivered_and_deduplicated=duplicates,
                outbox_empty_after_the_restart=f"{drained:.2f} s",
            )
            assert accepted == KILLED_EVENTS
            assert set(users) == {f"u{i}" for i in range(KILLED_EVENTS)} and all(n == 1 for n in users.values())
        finally:
            bridge.send_signal(signal.SIGINT)
            bridge.wait(timeout=15)
